"""`pods/{name}/eviction`: delete a pod on request, as `kubectl drain` asks for it.

Kubernetes' EvictionREST (pkg/registry/core/pod/storage/eviction.go) accepts a
`policy/v1` (or `v1beta1`) Eviction, checks the pod's PodDisruptionBudgets
and deletes the pod with the Eviction's `deleteOptions`, answering a v1
Status `Success`. Schooner has no PodDisruptionBudgets, so every eviction is
the fall-through case of that code: a plain delete, graceful as any other.
kubectl finds the subresource in `/api/v1` discovery (`pods/eviction`, kind
Eviction in group `policy`, version `v1`: drain's CheckEvictionSupport) and
POSTs the Eviction as JSON.
"""

from __future__ import annotations

from apimachinery import errors
from apimachinery.meta import Object
from apiserver.registry import DeleteOptions

EVICTION_GROUP, EVICTION_VERSION, EVICTION_KIND = "policy", "v1", "Eviction"
_ACCEPTED_VERSIONS = ("policy/v1", "policy/v1beta1")


def delete_options_for(pod_name: str, eviction: Object) -> tuple[DeleteOptions, bool]:
    """The DeleteOptions an Eviction asks for, and whether it asks for a dry run.

    As EvictionREST.Create: the kind must be Eviction in `policy/v1` or
    `policy/v1beta1`, and its name must be the pod's ("name in URL does not
    match name in Eviction object" otherwise).
    """
    kind, api_version = eviction.get("kind"), eviction.get("apiVersion")
    if kind is not None and kind != EVICTION_KIND:
        raise errors.BadRequest(f"not a Eviction object: {kind}")
    if api_version is not None and api_version not in _ACCEPTED_VERSIONS:
        raise errors.BadRequest(f"unsupported Eviction version {api_version!r}: use "
                                f"{' or '.join(_ACCEPTED_VERSIONS)}")
    name = (eviction.get("metadata") or {}).get("name")
    if name != pod_name:
        raise errors.BadRequest("name in URL does not match name in Eviction object")
    raw = eviction.get("deleteOptions")
    raw = {} if raw is None else raw
    if not isinstance(raw, dict):
        raise errors.BadRequest("deleteOptions: must be an object")
    dry_run = raw.get("dryRun") or []
    if any(v != "All" for v in dry_run):
        raise errors.BadRequest(f"deleteOptions.dryRun: unsupported value {dry_run!r}: "
                                "must be All")
    return DeleteOptions.from_body(raw, {}), bool(dry_run)


def success() -> Object:
    """The reply to an eviction that deleted (or began deleting) the pod."""
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
            "code": 201}
