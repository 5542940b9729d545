"""Handlers the agent runs against a container: probes and lifecycle hooks.

`prober` holds the probe workers and their manager (kubelet's pkg/kubelet/prober),
`runner` runs one probe handler once (httpGet, tcpSocket, exec), `results`
caches each container's results by container ID; `hooks` runs postStart and
preStop handlers (kubelet's lifecycle handlerRunner), reusing the probes' httpGet.
"""
