"""`schooner init`, `schooner join` and `schooner token`: hosts join with a token, as kubeadm.

One concern per module:

- `discovery`: cluster-info fetched without trust, its JWS checked with the token,
  the CA checked against the pinned hash (kubeadm's token discovery);
- `tlsbootstrap`: the node's client certificate through a CertificateSigningRequest
  made with the token, then its agent's serving certificate with the node's own
  credentials (the kubelet's TLS bootstrap and serving-certificate request);
- `services`: the agent and the proxy of a joined host, as systemd units when the host
  runs systemd, else supervised as the local cluster's components are;
- `tokens`: bootstrap token Secrets (`schooner token create|list|delete`);
- `commands`: the typer commands.
"""
