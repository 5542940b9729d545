"""From inside a pod: list the pods of this pod's namespace with the official client.

`config.load_incluster_config()` reads what Schooner puts in every pod, as Kubernetes
does: the apiserver's address from KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT (the
`kubernetes` Service), and the ServiceAccount's token, the cluster CA and the namespace
from /var/run/secrets/kubernetes.io/serviceaccount/. The token is the pod's own, bound
to it, renewed by the node's agent before it expires (the client re-reads the file), and
it carries exactly the RBAC rights of the pod's ServiceAccount: listing pods is allowed
by in-cluster.yaml's Role, reading Secrets is not (a 403).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from kubernetes import client, config
from kubernetes.client.rest import ApiException

NAMESPACE_FILE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
INTERVAL = float(os.environ.get("INTERVAL_SECONDS", "30"))


def once(api: client.CoreV1Api, namespace: str) -> None:
    pods = api.list_namespaced_pod(namespace)
    names = ", ".join(sorted(p.metadata.name for p in pods.items))
    print(f"pods in {namespace}: {names}", flush=True)
    try:
        api.list_namespaced_secret(namespace)
        print("secrets: listed (this account should not be allowed to)", flush=True)
    except ApiException as exc:
        print(f"secrets: {exc.status} {exc.reason}", flush=True)


def main() -> None:
    config.load_incluster_config()
    namespace = NAMESPACE_FILE.read_text().strip()
    api = client.CoreV1Api()
    while True:
        try:
            once(api, namespace)
        except ApiException as exc:
            print(f"pods: {exc.status} {exc.reason}", flush=True)
        except Exception as exc:  # the apiserver not reachable (yet): say so, try again
            print(f"error: {type(exc).__name__}: {exc}", flush=True)
        time.sleep(INTERVAL)


if __name__ == "__main__":
    main()
