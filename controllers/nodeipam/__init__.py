"""The node IPAM controller (Kubernetes' pkg/controller/nodeipam): a pod CIDR per Node.

- `controller`: NodeIpamController, the range allocator;
- `cidrset`: the cluster CIDR's subnets, free or used (pure).
"""

from .controller import NodeIpamController

__all__ = ["NodeIpamController"]
