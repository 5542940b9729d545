"""Schooner's controllers: kube-controller-manager's loops, as API clients.

- `base`: Controller (informers, work queue, `apimachinery.workers` calling
  reconcile(key)) and SharedInformerFactory.
- `common`: helpers several controllers share (controller references,
  expectations, pod availability, pod-template-hash).
- One package per controller that has helpers of its own, as Kubernetes'
  pkg/controller/: `deployment`, `replicaset`, `statefulset`, `autorollback`,
  `nodeipam`, each with its `controller` module; one module per controller
  that has none: `endpoints`, `garbagecollector`, `namespace`, `nodelifecycle`,
  `podgc`. Decisions are pure functions; the controller classes only read
  caches and call the API.
- `main`: the `schooner-controller-manager` process (`python -m controllers`).
"""
