"""Validation of pod specs, pods and pod updates.

Mirrors `ValidatePodSpec`, `ValidatePodUpdate` and their helpers in
`k8s.io/kubernetes/pkg/apis/core/validation/validation.go`. The same pod-spec
check serves Pods (`spec...`) and the templates of Deployments, ReplicaSets
and StatefulSets (`spec.template.spec...`), which may only restart `Always`.
"""

from __future__ import annotations

import copy
from typing import Any

from apiserver.kinds.core.podtemplate.containers import validate_containers
from apiserver.kinds.core.podtemplate.projected import validate_projected
from apiserver.kinds.core.podtemplate.security import validate_security
from apiserver.kinds.core.podtemplate.unsupported import validate_unsupported
from apiserver.validation.fields import (
    Errs,
    as_dict,
    check,
    child,
    dict_items,
    dns1123_label,
    dns1123_subdomain,
    forbidden,
    invalid,
    is_int,
    label_value,
    non_negative,
    not_supported,
    qualified_name,
    required,
    unique_label,
    validate_labels,
    validate_requirement,
)

_RESTART_POLICIES = ("Always", "OnFailure", "Never")
_DNS_POLICIES = ("ClusterFirst", "ClusterFirstWithHostNet", "Default", "None")
_TAINT_EFFECTS = ("NoExecute", "NoSchedule", "PreferNoSchedule")
_NODE_SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt")
_HOST_PATH_TYPES = ("", "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket",
                    "CharDevice", "BlockDevice")
# Every volume source Kubernetes knows, in its order (the second one found is reported),
# so untyped ones (projected, nfs...) count too.
_VOLUME_SOURCES = (
    "emptyDir", "hostPath", "gcePersistentDisk", "awsElasticBlockStore", "gitRepo", "secret",
    "nfs", "iscsi", "glusterfs", "persistentVolumeClaim", "rbd", "flexVolume", "cinder",
    "cephfs", "flocker", "downwardAPI", "fc", "azureFile", "configMap", "vsphereVolume",
    "quobyte", "azureDisk", "photonPersistentDisk", "projected", "portworxVolume", "scaleIO",
    "storageos", "csi", "ephemeral", "image",
)
_MAX_INT32 = 2**31 - 1
POD_UPDATE_MESSAGE = (
    "pod updates may not change fields other than `spec.containers[*].image`,"
    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"
    "`spec.tolerations` (only additions to existing tolerations)"
)


def validate_pod_spec(spec: Any, path: str, *, workload: str = "",
                      claim_volumes: frozenset[str] = frozenset()) -> Errs:
    """ValidatePodSpec; `workload` names the owning kind when `spec` is a pod template.

    `claim_volumes` are a StatefulSet's volumeClaimTemplates names: its pods get
    those volumes from the controller, so the template's containers may mount them.
    """
    if not isinstance(spec, dict):
        return []
    errs, volume_names = _validate_volumes(spec.get("volumes"), child(path, "volumes"))
    errs += validate_containers(spec, path, volume_names | claim_volumes)
    errs += validate_security(spec, path)
    errs += validate_unsupported(spec, path)
    restart = spec.get("restartPolicy")
    allowed = ("Always",) if workload else _RESTART_POLICIES
    if restart == "":
        errs.append(required(child(path, "restartPolicy")))
    elif isinstance(restart, str) and restart not in allowed:
        errs.append(not_supported(child(path, "restartPolicy"), restart, allowed))
    dns_policy = spec.get("dnsPolicy")
    if isinstance(dns_policy, str) and dns_policy not in _DNS_POLICIES:
        errs.append(not_supported(child(path, "dnsPolicy"), dns_policy, _DNS_POLICIES))
    errs += non_negative(child(path, "terminationGracePeriodSeconds"),
                         spec.get("terminationGracePeriodSeconds"))
    deadline = spec.get("activeDeadlineSeconds")
    if workload and deadline is not None:
        errs.append(forbidden(child(path, "activeDeadlineSeconds"),
                              f"activeDeadlineSeconds in {workload} is not Supported"))
    elif is_int(deadline) and not 1 <= deadline <= _MAX_INT32:
        errs.append(invalid(child(path, "activeDeadlineSeconds"), deadline,
                            f"must be between 1 and {_MAX_INT32}, inclusive"))
    errs += validate_labels(spec.get("nodeSelector"), child(path, "nodeSelector"))
    for key, checker in (("nodeName", dns1123_subdomain), ("serviceAccountName",
                         dns1123_subdomain), ("hostname", dns1123_label),
                         ("subdomain", dns1123_label)):
        value = spec.get(key)
        if isinstance(value, str) and value:
            errs += check(child(path, key), value, checker)
    errs += _validate_tolerations(spec.get("tolerations"), child(path, "tolerations"))
    node_affinity = as_dict(as_dict(spec.get("affinity")).get("nodeAffinity"))
    errs += _validate_node_affinity(node_affinity,
                                    child(child(path, "affinity"), "nodeAffinity"))
    return errs


def _validate_volumes(volumes: Any, path: str) -> tuple[Errs, set[str]]:
    """validateVolumes: unique DNS-label names, exactly one source each; returns the names."""
    errs: Errs = []
    names: set[str] = set()
    for i, volume in dict_items(volumes):
        vpath = f"{path}[{i}]"
        name = volume.get("name")
        if name == "":
            errs.append(required(child(vpath, "name")))
        elif isinstance(name, str):
            errs += unique_label(child(vpath, "name"), name, names)
        sources = [s for s in _VOLUME_SOURCES if volume.get(s) is not None]
        if not sources:
            errs.append(required(vpath, "must specify a volume type"))
        for extra in sources[1:]:
            errs.append(forbidden(child(vpath, extra), "may not specify more than 1 volume type"))
        errs += _validate_volume_source(volume, vpath)
        errs += validate_projected(volume, vpath)
    return errs, names


def _validate_volume_source(volume: dict[str, Any], path: str) -> Errs:
    errs: Errs = []
    for source, name_key in (("configMap", "name"), ("secret", "secretName"),
                             ("persistentVolumeClaim", "claimName"), ("hostPath", "path")):
        spec = volume.get(source)
        if not isinstance(spec, dict):
            continue
        spath = child(path, source)
        if spec.get(name_key) in (None, ""):
            errs.append(required(child(spath, name_key)))
        mode = spec.get("defaultMode")
        if is_int(mode) and not 0 <= mode <= 0o777:
            errs.append(invalid(child(spath, "defaultMode"), mode,
                                "must be a number between 0 and 0777 (octal), both inclusive"))
        for j, item in dict_items(spec.get("items")):
            for key in ("key", "path"):
                if item.get(key) == "":
                    errs.append(required(child(f"{child(spath, 'items')}[{j}]", key)))
    host_type = as_dict(volume.get("hostPath")).get("type")
    if isinstance(host_type, str) and host_type not in _HOST_PATH_TYPES:
        errs.append(not_supported(child(child(path, "hostPath"), "type"), host_type,
                                  _HOST_PATH_TYPES))
    return errs


def _validate_tolerations(tolerations: Any, path: str) -> Errs:
    """ValidateTolerations: key/operator/value/effect combinations."""
    errs: Errs = []
    for i, tol in dict_items(tolerations):
        tpath = f"{path}[{i}]"
        key, op = tol.get("key") or "", tol.get("operator") or ""
        value, effect = tol.get("value") or "", tol.get("effect") or ""
        if isinstance(key, str) and key:
            errs += check(child(tpath, "key"), key, qualified_name)
        if not key and op != "Exists":
            errs.append(invalid(child(tpath, "operator"), op,
                                "operator must be Exists when `key` is empty, which means "
                                '"match all values and all keys"'))
        if tol.get("tolerationSeconds") is not None and effect != "NoExecute":
            errs.append(invalid(child(tpath, "effect"), effect,
                                "effect must be 'NoExecute' when `tolerationSeconds` is set"))
        if op in ("", "Equal"):
            if isinstance(value, str):
                errs += check(child(tpath, "value"), value, label_value)
        elif op == "Exists":
            if value:
                errs.append(invalid(child(tpath, "operator"), op,
                                    "value must be empty when `operator` is 'Exists'"))
        elif isinstance(op, str):
            errs.append(not_supported(child(tpath, "operator"), op, ("Equal", "Exists")))
        if effect and isinstance(effect, str) and effect not in _TAINT_EFFECTS:
            errs.append(not_supported(child(tpath, "effect"), effect, _TAINT_EFFECTS))
    return errs


def _validate_node_affinity(affinity: dict[str, Any], path: str) -> Errs:
    """validateNodeAffinity: non-empty required terms; preferred weights 1-100."""
    errs: Errs = []
    req_key = "requiredDuringSchedulingIgnoredDuringExecution"
    required_sel = affinity.get(req_key)
    if isinstance(required_sel, dict):
        rpath = child(child(path, req_key), "nodeSelectorTerms")
        terms = required_sel.get("nodeSelectorTerms")
        if not terms:
            errs.append(required(rpath, "must have at least one node selector term"))
        for i, term in dict_items(terms):
            errs += _validate_node_selector_term(term, f"{rpath}[{i}]")
    pref_key = "preferredDuringSchedulingIgnoredDuringExecution"
    for i, pref in dict_items(affinity.get(pref_key)):
        ppath = f"{child(path, pref_key)}[{i}]"
        weight = pref.get("weight")
        if is_int(weight) and not 1 <= weight <= 100:
            errs.append(invalid(child(ppath, "weight"), weight, "must be in the range 1-100"))
        if isinstance(pref.get("preference"), dict):
            errs += _validate_node_selector_term(pref["preference"], child(ppath, "preference"))
    return errs


def _validate_node_selector_term(term: dict[str, Any], path: str) -> Errs:
    errs: Errs = []
    for i, req in dict_items(term.get("matchExpressions")):
        errs += validate_requirement(req, f"{child(path, 'matchExpressions')}[{i}]",
                                     operators=_NODE_SELECTOR_OPERATORS)
    for i, req in dict_items(term.get("matchFields")):
        fpath = f"{child(path, 'matchFields')}[{i}]"
        key, op, values = req.get("key"), req.get("operator"), req.get("values")
        if isinstance(key, str) and key != "metadata.name":
            errs.append(not_supported(child(fpath, "key"), key, ("metadata.name",)))
        if isinstance(op, str) and op not in ("In", "NotIn"):
            errs.append(invalid(child(fpath, "operator"), op, "not a valid selector operator"))
        elif not (isinstance(values, list) and len(values) == 1):
            errs.append(required(child(fpath, "values"),
                                 "must be only one value when `operator` is 'In' or 'NotIn' "
                                 "for node field selector"))
    return errs


# -- updates ----------------------------------------------------------------------


def comparable(value: Any) -> Any:
    """Drop nulls, empty strings, maps and lists: Kubernetes compares specs semantically,
    where an omitted field and its zero value are the same thing."""
    if isinstance(value, dict):
        pruned = {k: comparable(v) for k, v in value.items()}
        return {k: v for k, v in pruned.items() if v not in (None, "", {}, [])}
    if isinstance(value, list):
        return [comparable(v) for v in value]
    return value


def changed_fields(new: dict[str, Any], old: dict[str, Any], path: str) -> list[str]:
    """The top-level keys of two specs that differ, as paths (`spec.nodeName`)."""
    new_c, old_c = comparable(new), comparable(old)
    keys = sorted(set(new_c) | set(old_c))
    return [child(path, k) for k in keys if new_c.get(k) != old_c.get(k)]


def validate_pod_update(new: dict[str, Any], old: dict[str, Any]) -> Errs:
    """ValidatePodUpdate: only images, activeDeadlineSeconds and added tolerations may change.

    `spec.nodeName` is not among them: a pod is bound through the binding
    subresource, never by a plain update.
    """
    errs: Errs = []
    new_cmp, old_cmp = copy.deepcopy(new), copy.deepcopy(old)
    for spec in (new_cmp, old_cmp):
        for key in ("containers", "initContainers"):
            for _, container in dict_items(spec.get(key)):
                container.pop("image", None)
        spec.pop("activeDeadlineSeconds", None)
        spec.pop("tolerations", None)
    changed = changed_fields(new_cmp, old_cmp, "spec")
    if changed:
        errs.append(forbidden("spec", f"{POD_UPDATE_MESSAGE} (changed: {', '.join(changed)})"))
    errs += _validate_toleration_update(new.get("tolerations"), old.get("tolerations"))
    old_deadline, new_deadline = old.get("activeDeadlineSeconds"), new.get("activeDeadlineSeconds")
    if is_int(old_deadline):
        if new_deadline is None:
            errs.append(invalid("spec.activeDeadlineSeconds", None,
                                "must not update from a positive integer to nil value"))
        elif is_int(new_deadline) and new_deadline > old_deadline:
            errs.append(invalid("spec.activeDeadlineSeconds", new_deadline,
                                "must be less than or equal to previous value"))
    return errs


def _validate_toleration_update(new: Any, old: Any) -> Errs:
    """Existing tolerations stay (their tolerationSeconds aside); new ones may be added."""
    def strip(tol: dict[str, Any]) -> Any:
        return comparable({k: v for k, v in tol.items() if k != "tolerationSeconds"})

    kept = [strip(t) for _, t in dict_items(new)]
    for _, tol in dict_items(old):
        if strip(tol) not in kept:
            return [forbidden("spec.tolerations",
                              "existing toleration can not be modified except its "
                              "tolerationSeconds")]
    return []
