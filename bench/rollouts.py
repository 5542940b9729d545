"""Reading a Deployment's rollout from the API, for tests and benchmarks."""

from __future__ import annotations

from apimachinery.client import Client


def rolled_out(client: Client, namespace: str, name: str, image: str) -> bool:
    """The rollout is over: every replica updated and available, and no old pod left at all
    (terminating ones included), so every answer from now on comes from `image`."""
    d = client.get("deployments", name, namespace)
    status, replicas = d.get("status") or {}, d["spec"]["replicas"]
    if (status.get("observedGeneration") or 0) < d["metadata"]["generation"]:
        return False
    if not (status.get("updatedReplicas") == status.get("availableReplicas") == replicas
            and status.get("replicas") == replicas):
        return False
    pods = client.list("pods", namespace, label_selector=f"app={name}")["items"]
    return len(pods) == replicas and all(
        p["spec"]["containers"][0]["image"] == image for p in pods)


def set_image(client: Client, namespace: str, name: str, image: str,
              container: str = "web", cause: str | None = None) -> None:
    """What `kubectl set image` does (a strategic merge patch: the containers list is merged
    by name, not replaced), with a change-cause for `rollout history` (`image IMAGE` unless
    given)."""
    client.patch("deployments", name, {
        "metadata": {"annotations": {"kubernetes.io/change-cause": cause or f"image {image}"}},
        "spec": {"template": {"spec": {"containers": [{"name": container, "image": image}]}}}},
        namespace, patch_type="strategic")
