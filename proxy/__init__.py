"""The service proxy: ClusterIP:port on each node, forwarded to ready endpoints.

Kubernetes' kube-proxy in its userspace mode: every proxied Service's clusterIP is
a /32 on the node's loopback device, and an asyncio listener per service port
forwards each TCP connection to a ready endpoint, round-robin, honouring
`sessionAffinity: ClientIP`. `plan` and `balancer` decide (pure); `addresses`,
`forwarder` and `proxier` act; `main` is the `schooner-proxy` process.
"""
