"""Schooner's node agent, the kubelet analogue: runs the pods bound to its node on Docker.

Layers, top to bottom, one sub-package each (names follow the kubelet's tree):
* `main` (flags, logging) and `agent` (the syncLoop: informer, PLEG, resync,
  probe results -> `podsync.pod_workers`);
* `podsync`, the per-pod sync: `pod_sync` (observe, decide, act, report),
  `pod_start`, `termination` (killContainer: preStop, SIGTERM, grace),
  `images` (pull policy and back-off), `pod_workers` and `pleg`; and its pure
  decisions: `actions` (computePodActions), `pod_status` (generateAPIPodStatus),
  `phases` (the transition tables), `backoff`, `envvars`, `volumes`, `runspec`;
* `probes`: the prober's workers (`prober`), one probe run (`runner`), their
  `results`, and the lifecycle `hooks` (postStart and preStop handlers);
* `network`: the pod network and its host-gw routes (`podnetwork`), `ip` and
  `iptables` (`hostnetwork`), the pods' resolv.conf (`resolv_conf`);
* `nodestatus`: the Node's registration and status (`node_status`), its `lease`;
* `server`: logs/exec/healthz on the kubelet's port (`server`) and `auth`;
* `runtime`, at the bottom: the `ContainerRuntime` Protocol (`protocol`) every
  layer above is typed against, the runtime-neutral types (`container`), and
  `docker_runtime`, the only module that imports `docker` (`streams` for its
  long-lived streams, `gate` for the engine's serial calls);
* beside them, `hollow`: kubemark's hollow nodes, N Nodes in one process over the
  same node-status and pod-status code, with no Docker.
Every line the agent logs starts with `component=agent`.
"""
