"""The agent's HTTP server on the kubelet's port: `server` (logs, exec, healthz) and `auth`."""
