"""The StatefulSet controller (Kubernetes' pkg/controller/statefulset).

- `controller`: StatefulSetController, which reads the caches and calls the API;
- `identity`: pod names and ordinals, revisions, the pod for an ordinal;
- `plan`: which pods to create, delete or relabel next, and the status.
"""

from .controller import StatefulSetController

__all__ = ["StatefulSetController"]
