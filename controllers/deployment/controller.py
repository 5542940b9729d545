"""The Deployment controller: roll a pod template out through ReplicaSets.

Kubernetes' pkg/controller/deployment (deployment_controller.go, sync.go,
rolling.go, recreate.go, progress.go). `reconcile(key)`:

1. claims the namespace's ReplicaSets that match the selector;
2. a Deployment being deleted only gets its status written (the garbage
   collector removes its ReplicaSets);
3. finds the *new* ReplicaSet (template equal to the Deployment's, ignoring
   pod-template-hash) and syncs revisions: the new one gets
   max(old revisions) + 1, also when an old one becomes new again after
   `kubectl rollout undo`; the Deployment carries the same revision;
4. paused, or a change of spec.replicas only: resizes (proportionally across
   ReplicaSets during a rolling update), nothing else;
5. otherwise rolls out: RollingUpdate grows the new ReplicaSet within
   maxSurge and shrinks old ones within maxUnavailable; Recreate scales every
   old ReplicaSet to 0, waits until their pods are gone, then scales the new
   one up;
6. deletes old ReplicaSets beyond revisionHistoryLimit once complete, and
   writes status with the Available and Progressing conditions.

The arithmetic lives in `rollout`, `revisions` and `status`; this
module only reads caches and calls the API.
"""

from __future__ import annotations

from apimachinery import errors, meta
from apimachinery.clock import Clock
from apimachinery.conditions import get_condition
from apimachinery.informer import NAMESPACE_INDEX
from apimachinery.meta import Object
from apimachinery.selectors import selector_from_dict

from ..base import Controller, ControllerClient, SharedInformerFactory
from ..common import controller_ref as refs
from ..common.recorder import Recorder, about, recorder_for
from ..common.template_hash import equal_ignore_hash, template_hash
from . import rollout
from .revisions import (
    build_new_rs,
    find_new_rs,
    max_revision,
    new_rs_annotations,
    replicas_annotations,
)
from .status import (
    calculate_status,
    new_condition,
    paused_status,
    rollout_status,
    same_status,
    set_condition,
    stuck_requeue_after,
)


class DeploymentController(Controller):
    """Reconciles Deployments against the ReplicaSets they own."""

    name = "deployment"

    def __init__(self, client: ControllerClient, factory: SharedInformerFactory, *,
                 workers: int = 2, clock: Clock | None = None,
                 recorder: Recorder | None = None) -> None:
        super().__init__(client, factory, workers=workers, clock=clock)
        self.recorder = recorder_for(client, "deployment-controller", self.clock, recorder)
        self.d_informer = factory.informer("deployments")
        self.rs_informer = factory.informer("replicasets")
        self.pod_informer = factory.informer("pods")
        self.d_informer.add_event_handler(self.enqueue, lambda _old, new: self.enqueue(new),
                                          self.enqueue)
        self.rs_informer.add_event_handler(self._rs_added, self._rs_updated, self._rs_deleted)
        self.pod_informer.add_event_handler(on_delete=self._pod_deleted)

    # -- event handlers --------------------------------------------------------------------

    def _owner(self, rs: Object) -> Object | None:
        return refs.resolve_controller_ref(self.d_informer.store.get, meta.namespace_of(rs),
                                           refs.controller_ref(rs), "Deployment")

    def _matching(self, rs: Object) -> list[Object]:
        found = []
        for d in self.d_informer.store.by_index(NAMESPACE_INDEX, meta.namespace_of(rs)):
            try:
                selector = selector_from_dict((d.get("spec") or {}).get("selector"))
            except errors.BadRequest:
                continue
            if not selector.empty and selector.matches(meta.labels_of(rs)):
                found.append(d)
        return found

    def _rs_added(self, rs: Object) -> None:
        if refs.is_deleting(rs):
            self._rs_deleted(rs)
            return
        if refs.controller_ref(rs) is not None:
            owner = self._owner(rs)
            if owner is not None:
                self.enqueue(owner)
            return
        for d in self._matching(rs):
            self.enqueue(d)

    def _rs_updated(self, old: Object, cur: Object) -> None:
        if meta.resource_version_of(old) == meta.resource_version_of(cur):
            return
        for owner in refs.owners_to_sync(old, cur, self._owner, self._matching)[0]:
            self.enqueue(owner)

    def _rs_deleted(self, rs: Object) -> None:
        owner = self._owner(rs)
        if owner is not None:
            self.enqueue(owner)

    def _pod_deleted(self, pod: Object) -> None:
        """A Recreate rollout waits for old pods to be gone: look again when one goes."""
        rs = refs.resolve_controller_ref(self.rs_informer.store.get, meta.namespace_of(pod),
                                         refs.controller_ref(pod), "ReplicaSet")
        owner = self._owner(rs) if rs is not None else None
        if owner is not None and not rollout.is_rolling_update(owner):
            self.enqueue(owner)

    # -- reconcile -------------------------------------------------------------------------

    async def reconcile(self, key: str) -> None:
        cached = self.d_informer.store.get(key)
        if cached is None:
            self.decision(key, "forget", reason="not-found")
            return
        d = meta.deep_copy(cached)  # never modify the cache (STYLE rule 14)
        try:
            selector = selector_from_dict((d.get("spec") or {}).get("selector"))
        except errors.BadRequest as exc:
            self.decision(key, "skip", reason="invalid-selector", error=repr(exc.message))
            return
        if selector.empty:
            self.decision(key, "skip", reason="empty-selector")
            return
        candidates = self.rs_informer.store.by_index(NAMESPACE_INDEX, meta.namespace_of(d))
        rses = await refs.claim_objects(
            self.client, d, "deployments", "Deployment", selector, candidates, "replicasets",
            lambda action, rs: self.decision(key, action, replicaset=meta.name_of(rs)))
        if refs.is_deleting(d):
            new_rs, olds = await self._get_all(key, d, rses, create=False)
            await self._sync_status(d, [*olds, new_rs], new_rs)
            return
        await self._check_paused_conditions(d)
        new_rs, olds = await self._get_all(key, d, rses, create=False)
        if (d.get("spec") or {}).get("paused") or rollout.is_scaling_event(d, new_rs, olds):
            await self._sync(key, d, new_rs, olds)
        elif rollout.is_rolling_update(d):
            await self._rollout_rolling(key, d, rses, new_rs, olds)
        else:
            await self._rollout_recreate(key, d, rses, new_rs, olds)

    # -- the new ReplicaSet and revisions ------------------------------------------------------

    async def _get_all(self, key: str, d: Object, rses: list[Object], *,
                       create: bool) -> tuple[Object | None, list[Object]]:
        """getAllReplicaSetsAndSyncRevision: (new ReplicaSet or None, old ReplicaSets)."""
        existing = find_new_rs(d, rses)
        olds = [rs for rs in rses if rs is not existing]
        new_revision = max_revision(olds) + 1
        if existing is not None:
            return await self._sync_existing_new_rs(key, d, existing, new_revision), olds
        if not create:
            return None, olds
        return await self._create_new_rs(key, d, olds, new_revision), olds

    async def _sync_existing_new_rs(self, key: str, d: Object, rs: Object,
                                    new_revision: int) -> Object:
        md = meta.metadata(rs)
        annotations, changed = new_rs_annotations(d, md.get("annotations"), new_revision,
                                                       exists=True)
        min_ready = (d.get("spec") or {}).get("minReadySeconds") or 0
        if changed or ((rs.get("spec") or {}).get("minReadySeconds") or 0) != min_ready:
            updated = meta.deep_copy(rs)
            updated["metadata"]["annotations"] = annotations
            updated["spec"]["minReadySeconds"] = min_ready
            rs = await self.client.update("replicasets", updated)
            self.decision(key, "update-rs", replicaset=meta.name_of(rs),
                          revision=rollout.revision_of(rs))
        await self._sync_revision(d, rollout.revision_of(rs))
        if rollout.progress_deadline(d) is not None and \
                get_condition(d, "Progressing") is None:
            status = meta.deep_copy(d.get("status") or {})
            set_condition(status, new_condition(
                "Progressing", "True", "FoundNewReplicaSet",
                f'Found new replica set "{meta.name_of(rs)}"', self.clock.now()))
            await self._write_status(d, status)
        return rs

    async def _create_new_rs(self, key: str, d: Object, olds: list[Object],
                             new_revision: int) -> Object:
        status = d.get("status") or {}
        collisions = status.get("collisionCount")
        pod_hash = template_hash((d.get("spec") or {}).get("template"), collisions)
        annotations, _ = new_rs_annotations(d, {}, new_revision, exists=False)
        new_rs = build_new_rs(d, pod_hash, 0, annotations)
        new_rs["spec"]["replicas"] = rollout.new_rs_new_replicas(d, [*olds, new_rs], new_rs)
        try:
            created = await self.client.create("replicasets", new_rs, meta.namespace_of(d))
        except errors.AlreadyExists:
            created = await self._existing_or_collision(d, new_rs)
        else:
            self.decision(key, "create-rs", replicaset=meta.name_of(created),
                          replicas=rollout.spec_replicas(created), revision=new_revision)
            if rollout.spec_replicas(created) > 0:
                self._scaled(d, created, 0, rollout.spec_replicas(created))
        await self._sync_revision(d, new_revision)
        if rollout.progress_deadline(d) is not None:
            status = meta.deep_copy(d.get("status") or {})
            set_condition(status, new_condition(
                "Progressing", "True", "NewReplicaSetCreated",
                f'Created new replica set "{meta.name_of(created)}"', self.clock.now()))
            await self._write_status(d, status)
        return created

    async def _existing_or_collision(self, d: Object, new_rs: Object) -> Object:
        """Same name already taken: ours and equal (a stale cache), or a hash collision."""
        name, ns = meta.name_of(new_rs), meta.namespace_of(d)
        current = self.rs_informer.store.get(f"{ns}/{name}") or \
            await self.client.get("replicasets", name, ns)
        owner = refs.controller_ref(current)
        if owner is not None and owner.get("uid") == meta.metadata(d).get("uid") and \
                equal_ignore_hash((current.get("spec") or {}).get("template"),
                                       (d.get("spec") or {}).get("template")):
            return current
        status = meta.deep_copy(d.get("status") or {})
        status["collisionCount"] = int(status.get("collisionCount") or 0) + 1
        await self._write_status(d, status)
        raise errors.AlreadyExists(f"replicaset {name} exists with another template: "
                                   f"collisionCount now {status['collisionCount']}")

    async def _sync_revision(self, d: Object, revision: int) -> None:
        """SetDeploymentRevision: the Deployment shows its new ReplicaSet's revision."""
        annotations = meta.metadata(d).get("annotations") or {}
        if annotations.get(rollout.REVISION) == str(revision):
            return
        patch = {"metadata": {"annotations": {rollout.REVISION: str(revision)}}}
        result = await self.client.patch("deployments", meta.name_of(d), patch,
                                         meta.namespace_of(d))
        d["metadata"] = result["metadata"]

    # -- scaling ---------------------------------------------------------------------------

    async def _scale(self, key: str, d: Object, rs: Object, replicas: int) -> Object:
        """scaleReplicaSet: new size and the desired/max-replicas annotations, one update."""
        wanted = replicas_annotations(d)
        current = meta.metadata(rs).get("annotations") or {}
        resize = rollout.spec_replicas(rs) != replicas
        if not resize and all(current.get(k) == v for k, v in wanted.items()):
            return rs
        updated = meta.deep_copy(rs)
        updated["spec"]["replicas"] = replicas
        updated["metadata"]["annotations"] = {**current, **wanted}
        result = await self.client.update("replicasets", updated)
        if resize:
            self.decision(key, "scale", replicaset=meta.name_of(rs),
                          replicas=f"{rollout.spec_replicas(rs)}->{replicas}")
            self._scaled(d, rs, rollout.spec_replicas(rs), replicas)
        return result

    def _scaled(self, d: Object, rs: Object, before: int, after: int) -> None:
        """The ScalingReplicaSet event `kubectl describe deployment` lists, as Kubernetes
        words it."""
        direction = "up" if after > before else "down"
        self.recorder.record(about(d, "Deployment", "apps/v1"), "ScalingReplicaSet",
                             f"Scaled {direction} replica set {meta.name_of(rs)} "
                             f"from {before} to {after}")

    async def _apply(self, key: str, d: Object, plan: rollout.Plan,
                     rses: list[Object]) -> list[Object]:
        """Carry out a plan; returns `rses` with the scaled ones replaced."""
        by_name = {meta.name_of(rs): rs for rs in rses}
        for name, replicas in plan:
            by_name[name] = await self._scale(key, d, by_name[name], replicas)
        return [by_name[meta.name_of(rs)] for rs in rses]

    async def _sync(self, key: str, d: Object, new_rs: Object | None,
                    olds: list[Object]) -> None:
        """sync: a scaling event or a paused Deployment; resize, never roll out."""
        rses = [*olds, *([new_rs] if new_rs is not None else [])]
        rses = await self._apply(key, d, rollout.plan_scale(d, new_rs, olds), rses)
        if new_rs is not None:
            new_rs, olds = rses[-1], rses[:-1]
        else:
            olds = rses
        if (d.get("spec") or {}).get("paused"):
            await self._cleanup(key, d, olds)
        await self._sync_status(d, [*olds, new_rs], new_rs)

    # -- rollouts --------------------------------------------------------------------------

    async def _rollout_rolling(self, key: str, d: Object, rses: list[Object],
                               new_rs: Object | None, olds: list[Object]) -> None:
        if new_rs is None:
            new_rs, olds = await self._get_all(key, d, rses, create=True)
            assert new_rs is not None
        target = rollout.plan_new_rs(d, [*olds, new_rs], new_rs)
        if target is not None:
            new_rs = await self._scale(key, d, new_rs, target)
            await self._sync_rollout_status(key, d, [*olds, new_rs], new_rs)
            return
        plan = rollout.plan_old_rses(d, [*olds, new_rs], rollout.active(olds), new_rs)
        if plan:
            olds = await self._apply(key, d, plan, olds)
            await self._sync_rollout_status(key, d, [*olds, new_rs], new_rs)
            return
        if rollout.deployment_complete(d, d.get("status") or {}):
            await self._cleanup(key, d, olds)
        await self._sync_rollout_status(key, d, [*olds, new_rs], new_rs)

    async def _rollout_recreate(self, key: str, d: Object, rses: list[Object],
                                new_rs: Object | None, olds: list[Object]) -> None:
        if rollout.active(olds):
            olds = await self._apply(key, d, [(meta.name_of(rs), 0)
                                              for rs in rollout.active(olds)], olds)
            await self._sync_rollout_status(key, d, [*olds, new_rs], new_rs)
            return
        if self._old_pods_running(olds):
            self.decision(key, "wait", reason="old-pods-running")
            await self._sync_rollout_status(key, d, [*olds, new_rs], new_rs)
            return
        if new_rs is None:
            new_rs, olds = await self._get_all(key, d, rses, create=True)
            assert new_rs is not None
        new_rs = await self._scale(key, d, new_rs, rollout.spec_replicas(d))
        if rollout.deployment_complete(d, d.get("status") or {}):
            await self._cleanup(key, d, olds)
        await self._sync_rollout_status(key, d, [*olds, new_rs], new_rs)

    def _old_pods_running(self, olds: list[Object]) -> bool:
        """oldPodsRunning: any old pod not yet Succeeded or Failed, terminating ones too."""
        if sum(int((rs.get("status") or {}).get("replicas") or 0) for rs in olds):
            return True
        uids = {meta.metadata(rs).get("uid") for rs in olds}
        namespace = meta.namespace_of(olds[0]) if olds else ""
        for pod in self.pod_informer.store.by_index(NAMESPACE_INDEX, namespace):
            if (refs.controller_ref(pod) or {}).get("uid") in uids and \
                    (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed"):
                return True
        return False

    async def _cleanup(self, key: str, d: Object, olds: list[Object]) -> None:
        limit = (d.get("spec") or {}).get("revisionHistoryLimit")
        for rs in rollout.history_to_delete(olds, None if limit is None else int(limit)):
            try:
                await self.client.delete("replicasets", meta.name_of(rs), meta.namespace_of(rs),
                                         preconditions={"uid": meta.metadata(rs)["uid"]})
            except errors.NotFound:
                continue
            self.decision(key, "delete-old-rs", replicaset=meta.name_of(rs),
                          revision=rollout.revision_of(rs))

    # -- status ----------------------------------------------------------------------------

    async def _check_paused_conditions(self, d: Object) -> None:
        """A Progressing condition of Unknown/DeploymentPaused while paused, Resumed after."""
        status = paused_status(d, self.clock.now())
        if status is not None:
            await self._write_status(d, status)

    async def _sync_status(self, d: Object, rses: list[Object | None],
                           new_rs: Object | None) -> None:
        """syncDeploymentStatus: counts and Available only (scaling, paused, deleting)."""
        present = [rs for rs in rses if rs is not None]
        status = calculate_status(d, present, new_rs, self.clock.now())
        if not same_status(d.get("status"), status):
            await self._write_status(d, status)

    async def _sync_rollout_status(self, key: str, d: Object, rses: list[Object | None],
                                   new_rs: Object | None) -> None:
        """syncRolloutStatus: write what changed, else look again at the progress deadline."""
        now = self.clock.now()
        status = rollout_status(d, [rs for rs in rses if rs is not None], new_rs, now)
        if not same_status(d.get("status"), status):
            await self._write_status(d, status)
            return
        after = stuck_requeue_after(d, status, now)
        if after is not None:
            self.queue.add_after(key, after)

    async def _write_status(self, d: Object, status: Object) -> None:
        """Write status; keep `d` current so the next write in this sync is not stale."""
        updated = meta.deep_copy(d)
        updated["status"] = status
        result = await self.client.update_status("deployments", updated)
        d["metadata"], d["status"] = result["metadata"], result.get("status") or status
