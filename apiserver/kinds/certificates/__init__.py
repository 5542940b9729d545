"""certificates.k8s.io: requests for certificates signed by the cluster's CA."""
