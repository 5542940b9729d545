"""PodSecurity admission: enforce refuses, warn warns, audit annotates.

On a pod's create (its security fields are immutable after), the pod is
judged against its namespace's `enforce` level: a violation is Kubernetes' 403
`pods "x" is forbidden: violates PodSecurity "baseline:latest": hostPath volumes
(volume "root")`. Then the `warn` level, when it differs, gives a `Warning`
header (`would violate PodSecurity ...`), and the `audit` level an annotation for
the audit event. A workload (Deployment, ReplicaSet, StatefulSet, DaemonSet,
Job, CronJob, ReplicationController, PodTemplate) is never refused: its
template is judged against `warn` and `audit`, so its author hears of it at
once, and its controller's pod creates fail later with the 403 in a
FailedCreate event. A namespace's own pod-security labels are checked for
valid values when it is written; when its enforce level changes, the pods
already in it that violate the new level are named in warnings (they keep
running, as in Kubernetes).

Schooner's `warn` and `audit` levels, when their labels are absent, follow the
namespace's `enforce` level (Kubernetes leaves them at its configured default),
so a workload that its pods could not satisfy is always warned about.
"""

from __future__ import annotations

from typing import Any

from apimachinery import errors
from apimachinery.errors import FieldError
from apimachinery.meta import Object
from apimachinery.resources import ResourceInfo
from apiserver import admissionnotes
from apiserver.kinds.core.podsecurity.checks import evaluate, message
from apiserver.kinds.core.podsecurity.levels import (
    PREFIX,
    Level,
    LevelVersion,
    Policy,
    label_errors,
    policy_for,
)
from apiserver.registry import Registry

# Where each workload keeps its pod template's spec.
_TEMPLATE_PATHS: dict[tuple[str, str], tuple[str, ...]] = {
    ("", "podtemplates"): ("template", "spec"),
    ("", "replicationcontrollers"): ("spec", "template", "spec"),
    ("apps", "deployments"): ("spec", "template", "spec"),
    ("apps", "replicasets"): ("spec", "template", "spec"),
    ("apps", "statefulsets"): ("spec", "template", "spec"),
    ("apps", "daemonsets"): ("spec", "template", "spec"),
    ("batch", "jobs"): ("spec", "template", "spec"),
    ("batch", "cronjobs"): ("spec", "jobTemplate", "spec", "template", "spec"),
}


def _at(obj: Object, path: tuple[str, ...]) -> dict[str, Any] | None:
    value: Any = obj
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, dict) else None


async def namespace_policy(registry: Registry, namespace: str) -> Policy:
    """The namespace's policy; a namespace not (yet) stored has the defaults."""
    try:
        ns = await registry.get(ResourceInfo("", "v1", "Namespace", "namespaces", False),
                                None, namespace)
    except errors.NotFound:
        return policy_for(namespace, None)
    labels = (ns.get("metadata") or {}).get("labels")
    policy = policy_for(namespace, labels)
    labels = labels if isinstance(labels, dict) else {}
    return Policy(policy.enforce,
                  policy.warn if PREFIX + "warn" in labels else policy.enforce,
                  policy.audit if PREFIX + "audit" in labels else policy.enforce)


def _without_images(spec: Any) -> Any:
    """The spec with every container's image blanked: an image-only update is not judged."""
    if not isinstance(spec, dict):
        return spec
    copy = dict(spec)
    for key in ("initContainers", "containers", "ephemeralContainers"):
        if isinstance(copy.get(key), list):
            copy[key] = [{**c, "image": ""} if isinstance(c, dict) else c for c in copy[key]]
    return copy


def _warn(spec: dict[str, Any], policy: Policy, skip: LevelVersion | None) -> None:
    """The `warn` level's warning, unless that level was just enforced (and passed)."""
    if policy.warn != skip:
        found = evaluate(spec, policy.warn)
        if found:
            admissionnotes.warn(f'would violate PodSecurity "{policy.warn}": {message(found)}')


def _audit(spec: dict[str, Any], policy: Policy) -> None:
    """The `audit` level's annotation for the request's audit event (refused or not)."""
    found = evaluate(spec, policy.audit)
    if found:
        admissionnotes.annotate_audit(
            "pod-security.kubernetes.io/audit-violations",
            f'would violate PodSecurity "{policy.audit}": {message(found)}')


async def _admit_pod(registry: Registry, namespace: str, obj: Object,
                     old: Object | None) -> None:
    spec = obj.get("spec")
    if not isinstance(spec, dict) or old is not None:
        return  # a pod's security fields are immutable: judged once, on create
    policy = await namespace_policy(registry, namespace)
    admissionnotes.annotate_audit("pod-security.kubernetes.io/enforce-policy",
                                  str(policy.enforce))
    _audit(spec, policy)
    found = evaluate(spec, policy.enforce)
    if found:
        name = str((obj.get("metadata") or {}).get("name") or "")
        raise errors.Forbidden(
            f'pods "{name}" is forbidden: violates PodSecurity "{policy.enforce}": '
            f"{message(found)}", details={"name": name, "kind": "pods"})
    _warn(spec, policy, policy.enforce)


async def _admit_workload(registry: Registry, namespace: str, spec: dict[str, Any],
                          old_spec: dict[str, Any] | None) -> None:
    if old_spec is not None and _without_images(spec) == _without_images(old_spec):
        return
    policy = await namespace_policy(registry, namespace)
    _audit(spec, policy)
    _warn(spec, policy, None)


def _labels(obj: Object | None) -> dict[str, Any]:
    labels = ((obj or {}).get("metadata") or {}).get("labels")
    return labels if isinstance(labels, dict) else {}


def _check_namespace_labels(resource: ResourceInfo, obj: Object) -> None:
    problems = label_errors(_labels(obj))
    if problems:
        name = str((obj.get("metadata") or {}).get("name") or "")
        raise errors.Invalid(resource.kind, name, [
            FieldError(f"metadata.labels[{key}]", f'Invalid value: "{value}": {why}', value)
            for key, value, why in problems])


async def _warn_existing_pods(registry: Registry, obj: Object, old: Object) -> None:
    """A namespace's enforce level changed: warn about the pods already there that violate
    it, as Kubernetes does (pods with the same violations on one line)."""
    name = str((obj.get("metadata") or {}).get("name") or "")
    new, before = policy_for(name, _labels(obj)).enforce, policy_for(name, _labels(old)).enforce
    if new == before or new.level == Level.PRIVILEGED:
        return
    page = await registry.list(ResourceInfo("", "v1", "Pod", "pods", True), name)
    by_reasons: dict[str, list[str]] = {}
    for pod in page.items:
        spec = pod.get("spec")
        found = evaluate(spec, new) if isinstance(spec, dict) else []
        if found:
            reasons = ", ".join(dict.fromkeys(v.reason for v in found))
            by_reasons.setdefault(reasons, []).append(
                str((pod.get("metadata") or {}).get("name") or ""))
    if not by_reasons:
        return
    admissionnotes.warn(f'existing pods in namespace "{name}" violate the new PodSecurity '
                        f'enforce level "{new}"')
    lines = []
    for reasons, pods in by_reasons.items():
        others = len(pods) - 1
        who = min(pods) + ("" if not others else " (and 1 other pod)" if others == 1
                           else f" (and {others} other pods)")
        lines.append(f"{who}: {reasons}")
    for line in sorted(lines):
        admissionnotes.warn(line)


async def admit_pod_security(registry: Registry, resource: ResourceInfo,
                             namespace: str | None, obj: Object,
                             old: Object | None) -> None:
    """Kubernetes' PodSecurity admission plugin, with Schooner's defaults."""
    key = (resource.group, resource.plural)
    if key == ("", "namespaces"):
        _check_namespace_labels(resource, obj)
        if old is not None:
            await _warn_existing_pods(registry, obj, old)
    elif key == ("", "pods") and namespace:
        await _admit_pod(registry, namespace, obj, old)
    elif key in _TEMPLATE_PATHS and namespace:
        spec = _at(obj, _TEMPLATE_PATHS[key])
        if spec is not None:
            await _admit_workload(registry, namespace, spec,
                                  _at(old, _TEMPLATE_PATHS[key]) if old else None)
