"""Schooner apiserver: Kubernetes-style REST over etcd."""

__version__ = "0.1.0"
