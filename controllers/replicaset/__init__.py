"""The ReplicaSet controller (Kubernetes' pkg/controller/replicaset).

- `controller`: ReplicaSetController and its pure decisions (manage_replicas, status);
- `deletion_order`: which pods go first when it scales down.
"""

from .controller import ReplicaSetController

__all__ = ["ReplicaSetController"]
