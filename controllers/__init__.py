"""Schooner's controllers: kube-controller-manager's loops, as API clients.

- `base`: Controller (informers, work queue, workers, reconcile(key)) and
  SharedInformerFactory; `expectations`: ControllerExpectations.
- `replicaset`, `deployment` (+ `deployment_rollout`, `deployment_util`),
  `garbagecollector`, `namespace`: one controller each; decisions are pure
  functions, the controller classes only read caches and call the API.
- `main`: the `schooner-controller-manager` process (`python -m controllers`).
"""
