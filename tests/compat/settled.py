"""Waiting until controllers have nothing left to write, for tests that compare
resourceVersions (kubectl's `patched (no change)`, a dry run that must store nothing)."""

from __future__ import annotations

from apimachinery.client import Client


def rollout_settled(client: Client, namespace: str, name: str) -> bool:
    """Whether the Deployment's and its ReplicaSets' controllers have nothing left to write."""
    deploy = client.get("deployments", name, namespace)
    status = deploy.get("status") or {}
    if status.get("observedGeneration") != deploy["metadata"]["generation"]:
        return False
    progressing = [c for c in status.get("conditions") or [] if c["type"] == "Progressing"]
    if not progressing or progressing[0].get("reason") != "NewReplicaSetAvailable":
        return False
    sets = client.list("replicasets", namespace, label_selector=f"app={name}")["items"]
    return bool(sets) and all((rs.get("status") or {}).get("observedGeneration")
                              == rs["metadata"]["generation"] for rs in sets)
