"""Helpers several controllers share (Kubernetes keeps these in pkg/controller itself).

- `controller_ref`: who controls an object; claiming, adopting, releasing
  (Deployment, ReplicaSet, StatefulSet, auto-rollback, garbage collector).
- `expectations`: ControllerExpectations (ReplicaSet, StatefulSet).
- `recorder`: the Recorder protocol and a controller's EventRecorder (Deployment,
  ReplicaSet).
- `pods`: active and available pods (ReplicaSet, StatefulSet).
- `template_hash`: pod-template-hash (Deployment's ReplicaSets, StatefulSet revisions).
"""
