"""kubectl describe's layouts for the pod controllers: Deployment, ReplicaSet, StatefulSet.

Mirrors DeploymentDescriber, ReplicaSetDescriber and StatefulSetDescriber in
k8s.io/kubectl/pkg/describe: replicas, strategy, the pod template, conditions,
and the related objects (pods, ReplicaSets) that the caller fetched.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from apimachinery.meta import Object, metadata, name_of
from apimachinery.printers import format_label_selector
from cli.describe._writer import (
    Context,
    Writer,
    controlled_by,
    controller_of,
    write_events,
    write_header,
    write_meta,
)
from cli.describe.pods import describe_pod_template


def _conditions(w: Writer, conditions: list[dict[str, Any]] | None) -> None:
    """The Type/Status/Reason table of a workload's status conditions."""
    if conditions:
        w(0, "Conditions:")
        w(1, "Type\tStatus\tReason")
        w(1, "----\t------\t------")
    for c in conditions or []:
        w(1, f"{c.get('type', '')} \t{c.get('status', '')}\t{c.get('reason', '')}")


def _pods_status(w: Writer, owner: Object, pods: Sequence[Object] | None) -> None:
    """getPodStatusForController: the owner's pods counted by phase (when the caller has them)."""
    if pods is None:
        return
    phases = [(p.get("status") or {}).get("phase") for p in pods if controlled_by(p, owner)]
    counts = [phases.count(phase) for phase in ("Running", "Pending", "Succeeded", "Failed")]
    w(0, "Pods Status:\t{} Running / {} Waiting / {} Succeeded / {} Failed".format(*counts))


def _template_key(template: dict[str, Any]) -> Any:
    """A template compared as the deployment controller does: pod-template-hash ignored."""
    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            items = ((k, strip(v)) for k, v in value.items() if k != "pod-template-hash")
            return {k: v for k, v in items if v not in (None, {}, [])}
        return [strip(v) for v in value] if isinstance(value, list) else value
    return strip(template)


def _rs_list(replica_sets: Sequence[Object]) -> str:
    return ", ".join(
        f"{name_of(rs)} ({(rs.get('status') or {}).get('replicas') or 0}/"
        f"{(rs.get('spec') or {}).get('replicas', 1)} replicas created)"
        for rs in replica_sets) or "<none>"


def describe_deployment(w: Writer, deploy: Object, ctx: Context) -> None:
    spec, status = deploy.get("spec") or {}, deploy.get("status") or {}
    write_header(w, deploy, created=True)
    write_meta(w, deploy)
    w(0, f"Selector:\t{format_label_selector(spec.get('selector'), none='')}")
    w(0, f"Replicas:\t{spec.get('replicas', 1)} desired | {status.get('updatedReplicas', 0)} "
         f"updated | {status.get('replicas', 0)} total | {status.get('availableReplicas', 0)} "
         f"available | {status.get('unavailableReplicas', 0)} unavailable")
    strategy = spec.get("strategy") or {}
    w(0, f"StrategyType:\t{strategy.get('type') or 'RollingUpdate'}")
    w(0, f"MinReadySeconds:\t{spec.get('minReadySeconds', 0)}")
    if (strategy.get("type") or "RollingUpdate") == "RollingUpdate":
        ru = strategy.get("rollingUpdate") or {}
        w(0, f"RollingUpdateStrategy:\t{ru.get('maxUnavailable', '25%')} max unavailable, "
             f"{ru.get('maxSurge', '25%')} max surge")
    describe_pod_template(w, spec.get("template") or {})
    _conditions(w, status.get("conditions"))
    if ctx.replica_sets:
        owned = sorted((rs for rs in ctx.replica_sets if controlled_by(rs, deploy)),
                       key=lambda rs: metadata(rs).get("creationTimestamp") or "")
        want = _template_key(spec.get("template") or {})
        new = next((rs for rs in owned if _template_key(
            (rs.get("spec") or {}).get("template") or {}) == want), None)
        w(0, f"OldReplicaSets:\t{_rs_list([rs for rs in owned if rs is not new])}")
        w(0, f"NewReplicaSet:\t{_rs_list([new] if new else [])}")
    write_events(w, ctx)


def describe_replica_set(w: Writer, rs: Object, ctx: Context) -> None:
    spec, status = rs.get("spec") or {}, rs.get("status") or {}
    write_header(w, rs)
    w(0, f"Selector:\t{format_label_selector(spec.get('selector'))}")
    write_meta(w, rs)
    ref = controller_of(rs)
    if ref is not None:
        w(0, f"Controlled By:\t{ref.get('kind')}/{ref.get('name')}")
    w(0, f"Replicas:\t{status.get('replicas', 0)} current / {spec.get('replicas', 1)} desired")
    _pods_status(w, rs, ctx.pods)
    describe_pod_template(w, spec.get("template") or {})
    _conditions(w, status.get("conditions"))
    write_events(w, ctx)


def describe_stateful_set(w: Writer, sts: Object, ctx: Context) -> None:
    spec, status = sts.get("spec") or {}, sts.get("status") or {}
    write_header(w, sts, created=True)
    w(0, f"Selector:\t{format_label_selector(spec.get('selector'), none='')}")
    write_meta(w, sts)
    w(0, f"Replicas:\t{spec.get('replicas', 1)} desired | {status.get('replicas', 0)} total")
    w(0, f"Update Strategy:\t{(spec.get('updateStrategy') or {}).get('type') or 'RollingUpdate'}")
    _pods_status(w, sts, ctx.pods)
    describe_pod_template(w, spec.get("template") or {})
    claims = spec.get("volumeClaimTemplates") or []
    w(0, "Volume Claims:" + ("" if claims else "\t<none>"))
    for pvc in claims:
        w(1, f"Name:\t{name_of(pvc)}")
    write_events(w, ctx)
