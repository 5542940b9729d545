"""The per-pod sync: the kubelet's pod workers, syncPod and the pure decisions under them.

* `pod_workers` (one asyncio task per pod) and `pleg` (Docker events and a
  relist) drive `pod_sync` (observe, decide, act, report), which starts
  containers with `pod_start`, stops them with `termination` (killContainer)
  and ensures images with `images` (pull policy, pull back-off);
* pure decisions: `actions` (computePodActions), `pod_status` (the pod's
  status, generateAPIPodStatus), `phases` (the transition tables), `backoff`,
  `envvars`, `volumes` and `runspec` (what to ask the runtime for).
"""
