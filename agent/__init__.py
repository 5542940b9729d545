"""Schooner's node agent, the kubelet analogue: runs the pods bound to its node on Docker.

Layers, top to bottom (names follow the kubelet's):
* `main` (flags) and `agent` (the syncLoop: informer, PLEG, resync -> `pod_workers`);
* the per-pod sync: `pod_sync` (observe, decide, act, report), `pod_start`,
  `termination` (killContainer: preStop, SIGTERM, grace) and `hooks` (postStart
  and preStop handlers);
* pure decisions: `actions` (computePodActions), `status` (generateAPIPodStatus),
  `phases` (the transition tables), `backoff`, `envvars`, `volumes`, `runspec`;
* edges: `runtime` (the only module that imports `docker`; `runtime_streams` for
  its long-lived streams), `images`, `events`, `node_status`, `lease`, `server`
  and `auth` (logs/exec/healthz on the kubelet's port).
"""
