"""Why a logs or exec request has no container to use, in the kubelet's words.

The kubelet answers such requests with a 400 that the apiserver relays, so
`kubectl logs` prints e.g. `Error from server (BadRequest): container "main" in
pod "web" is waiting to start: trying and failing to pull image`; a pod the
agent does not know is a 404.
"""

from __future__ import annotations

from dataclasses import dataclass

from apimachinery.meta import Object

# The kubelet spells out the two commonest pending failures (kuberuntime's
# GetContainerLogs); any other waiting reason is shown as it is.
_WAITING_WORDS = {"ErrImagePull": "image can't be pulled",
                  "ImagePullBackOff": "trying and failing to pull image"}


@dataclass(frozen=True)
class Unavailable:
    """Why a request has no container to use, and the HTTP code that says so."""

    message: str
    code: int = 400


def waiting_to_start(pod: Object, container: str) -> Unavailable:
    """A container with no instance started yet, with its waiting reason when it has one."""
    name = (pod.get("metadata") or {}).get("name")
    status = pod.get("status") or {}
    statuses = [*(status.get("initContainerStatuses") or []),
                *(status.get("containerStatuses") or [])]
    state = next((s.get("state") or {} for s in statuses if s.get("name") == container), {})
    reason = (state.get("waiting") or {}).get("reason") or ""
    message = f'container "{container}" in pod "{name}" is waiting to start'
    if reason:
        message += f": {_WAITING_WORDS.get(reason, reason)}"
    return Unavailable(message)
