"""The node's side of pod networking: the pod network, host routes and pod DNS.

`podnetwork` waits for the Node's podCIDR and keeps host-gw routes to the
other Nodes; `hostnetwork` is the only module that runs `ip` and `iptables`;
`resolv_conf` writes the resolv.conf a pod's containers see (kubelet's
pkg/kubelet/network/dns).
"""
