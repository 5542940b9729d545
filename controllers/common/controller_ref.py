"""Controller references: who controls an object, and adopting or releasing objects.

Kubernetes' ControllerRefManager (pkg/controller/controller_ref_manager.go).
An object is controlled by at most one owner (the ownerReference with
`controller: true`). A controller *claims* the objects it should manage:

* owned by it and matching its selector: keep;
* owned by it and no longer matching: release (drop the reference);
* orphaned and matching, while the controller is not being deleted: adopt;
* owned by another controller, or being deleted: leave alone.

`claim` is the pure decision; `adopt` and `release` are the edge. Both patch
with the object's resourceVersion, so a concurrent change makes them fail
with Conflict and the controller's sync is retried rather than clobbering it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

from apimachinery import errors, meta
from apimachinery.meta import Object
from apimachinery.selectors import LabelSelector

from ..base import ControllerClient


def controller_ref(obj: Object) -> Object | None:
    """metav1.GetControllerOf: the ownerReference with `controller: true`, if any."""
    for ref in meta.metadata(obj).get("ownerReferences") or []:
        if isinstance(ref, dict) and ref.get("controller") is True:
            return ref
    return None


def new_controller_ref(owner: Object, api_version: str, kind: str) -> Object:
    """metav1.NewControllerRef: controller and blockOwnerDeletion both true."""
    md = meta.metadata(owner)
    return {"apiVersion": api_version, "kind": kind, "name": md.get("name", ""),
            "uid": md.get("uid", ""), "controller": True, "blockOwnerDeletion": True}


def is_deleting(obj: Object) -> bool:
    return bool(meta.metadata(obj).get("deletionTimestamp"))


def resolve_controller_ref(store_get: Callable[[str], Object | None], namespace: str,
                           ref: Object | None, kind: str) -> Object | None:
    """The cached controller a reference points at, if its kind and uid match."""
    if ref is None or ref.get("kind") != kind:
        return None
    owner = store_get(f"{namespace}/{ref.get('name', '')}")
    if owner is None or meta.metadata(owner).get("uid") != ref.get("uid"):
        return None
    return owner


@dataclass
class Claims:
    """What `claim` decided for each candidate object."""

    owned: list[Object] = field(default_factory=list)
    adopt: list[Object] = field(default_factory=list)
    release: list[Object] = field(default_factory=list)


def owners_to_sync(old: Object, cur: Object,
                   owner_of: Callable[[Object], Object | None],
                   matching: Callable[[Object], list[Object]]) -> tuple[list[Object],
                                                                      Object | None]:
    """Which controllers must look again when a dependent changed (Kubernetes' updatePod/RS).

    The old owner if the controller reference moved away from it; the current
    owner (returned second too, for owner-specific follow-ups such as
    minReadySeconds); for an orphan whose labels or reference changed, every
    controller whose selector matches it (a candidate to adopt it).
    """
    old_ref, cur_ref = controller_ref(old), controller_ref(cur)
    owners: list[Object] = []
    if old_ref != cur_ref and old_ref is not None and (previous := owner_of(old)) is not None:
        owners.append(previous)
    if cur_ref is not None:
        current = owner_of(cur)
        return owners + ([current] if current is not None else []), current
    if meta.labels_of(old) != meta.labels_of(cur) or old_ref != cur_ref:
        owners += matching(cur)
    return owners, None


def claim(controller: Object, selector: LabelSelector, candidates: list[Object]) -> Claims:
    """ClaimObject for every candidate: keep, adopt, release or ignore (pure)."""
    uid = meta.metadata(controller).get("uid")
    deleting = is_deleting(controller)
    out = Claims()
    for obj in candidates:
        ref = controller_ref(obj)
        matches = selector.matches(meta.labels_of(obj))
        if ref is not None:
            if ref.get("uid") != uid:
                continue  # another controller's
            if matches:
                out.owned.append(obj)
            elif not deleting:
                out.release.append(obj)
            continue
        if deleting or not matches or is_deleting(obj):
            continue
        out.adopt.append(obj)
    return out


async def adopt(client: ControllerClient, resource: str, obj: Object, ref: Object) -> Object:
    """Add `ref` to the object's ownerReferences (its resourceVersion as precondition)."""
    md = meta.metadata(obj)
    refs = [r for r in meta.deep_copy(md.get("ownerReferences") or [])
            if r.get("uid") != ref["uid"]]
    patch = {"metadata": {"resourceVersion": md.get("resourceVersion"),
                          "ownerReferences": [*refs, ref]}}
    return await client.patch(resource, md["name"], patch, md.get("namespace"))


async def release(client: ControllerClient, resource: str, obj: Object,
                  *owner_uids: str) -> None:
    """Drop these owners' references; an object already gone needs no release."""
    md = meta.metadata(obj)
    refs = [r for r in md.get("ownerReferences") or [] if r.get("uid") not in owner_uids]
    patch = {"metadata": {"resourceVersion": md.get("resourceVersion"),
                          "ownerReferences": refs or None}}
    with contextlib.suppress(errors.NotFound):
        await client.patch(resource, md["name"], patch, md.get("namespace"))


async def claim_objects(client: ControllerClient, owner: Object, owner_resource: str,
                        owner_kind: str, selector: LabelSelector, candidates: list[Object],
                        resource: str, report: Callable[[str, Object], None],
                        api_version: str = "apps/v1") -> list[Object]:
    """Claim, then adopt and release through the API; returns the objects owned now.

    Adoption first re-reads the owner live (`recheck_can_adopt`), as Kubernetes does,
    so a controller deleted a moment ago never adopts anything. `report(action, obj)`
    logs each adoption or release.
    """
    claims = claim(owner, selector, candidates)
    owned = list(claims.owned)
    if claims.adopt and await recheck_can_adopt(client, owner_resource, owner):
        ref = new_controller_ref(owner, api_version, owner_kind)
        for obj in claims.adopt:
            try:
                owned.append(await adopt(client, resource, obj, ref))
            except errors.NotFound:
                continue
            report("adopt", obj)
    for obj in claims.release:
        await release(client, resource, obj, meta.metadata(owner)["uid"])
        report("release", obj)
    return owned


async def recheck_can_adopt(client: ControllerClient, resource: str, controller: Object) -> bool:
    """RecheckDeletionTimestamp: adopt only if a live read shows the same, undeleted owner."""
    md = meta.metadata(controller)
    try:
        fresh = await client.get(resource, md["name"], md.get("namespace"))
    except errors.NotFound:
        return False
    return meta.metadata(fresh).get("uid") == md.get("uid") and not is_deleting(fresh)
