"""The Deployment controller (Kubernetes' pkg/controller/deployment).

- `controller`: DeploymentController, which reads the caches and calls the API;
- `rollout`: the replica arithmetic of rolling updates, Recreate and scaling;
- `revisions`: the new ReplicaSet, its revision and annotations;
- `status`: the Deployment's status and its Available/Progressing conditions.
"""

from .controller import DeploymentController

__all__ = ["DeploymentController"]
