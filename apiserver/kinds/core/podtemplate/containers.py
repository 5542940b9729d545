"""Validation of a pod's containers: names, image, ports, env, resources, mounts, probes.

Mirrors `validateContainers` and its helpers in
`k8s.io/kubernetes/pkg/apis/core/validation/validation.go`, with the same
field paths (`spec.containers[0].ports[1].containerPort`) and messages.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from apimachinery.quantity import QUANTITY_PATTERN, parse_quantity
from apiserver.validation.fields import (
    PROTOCOLS,
    Errs,
    as_dict,
    check,
    child,
    config_key,
    dict_items,
    duplicate,
    env_var_name,
    forbidden,
    invalid,
    is_int,
    non_negative,
    not_found,
    not_supported,
    port_name,
    port_num_or_name,
    port_number,
    regex_error,
    required,
    unique_label,
)

_PULL_POLICIES = ("Always", "IfNotPresent", "Never")
_MESSAGE_POLICIES = ("FallbackToLogsOnError", "File")
_CONTAINER_RESOURCES = ("cpu", "memory", "ephemeral-storage")
_FIELD_REF_PATHS = ("metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName",
                    "spec.serviceAccountName", "status.hostIP", "status.hostIPs",
                    "status.podIP", "status.podIPs")
_FIELD_REF_SUBSCRIPT = re.compile(r"metadata\.(labels|annotations)\['[^']+'\]")
_HTTP_HEADER_NAME = re.compile(r"[-A-Za-z0-9]+")


def validate_containers(spec: dict[str, Any], path: str, volume_names: set[str]) -> Errs:
    """`spec.initContainers` then `spec.containers`; names are unique across both."""
    errs: Errs = []
    containers = spec.get("containers")
    if containers is None or containers == []:
        errs.append(required(child(path, "containers")))
    names: set[str] = set()
    grace = spec.get("terminationGracePeriodSeconds")
    for key in ("initContainers", "containers"):
        for i, container in dict_items(spec.get(key)):
            errs += _validate_container(container, f"{child(path, key)}[{i}]", names,
                                        volume_names, init=key == "initContainers",
                                        grace=grace if is_int(grace) else None)
    return errs


def _validate_container(c: dict[str, Any], path: str, names: set[str],
                        volume_names: set[str], *, init: bool, grace: int | None) -> Errs:
    errs: Errs = []
    name = c.get("name")
    if name == "":
        errs.append(required(child(path, "name")))
    elif isinstance(name, str):
        errs += unique_label(child(path, "name"), name, names)
    image = c.get("image")
    if image is None or image == "":
        errs.append(required(child(path, "image")))
    elif isinstance(image, str) and image != image.strip():
        errs.append(invalid(child(path, "image"), image,
                            "must not have leading or trailing whitespace"))
    errs += _one_of(c, "imagePullPolicy", _PULL_POLICIES, path)
    errs += _one_of(c, "terminationMessagePolicy", _MESSAGE_POLICIES, path)
    errs += _validate_ports(c.get("ports"), child(path, "ports"))
    errs += _validate_env(c.get("env"), child(path, "env"))
    errs += _validate_env_from(c.get("envFrom"), child(path, "envFrom"))
    errs += _validate_resources(c.get("resources"), child(path, "resources"))
    errs += _validate_mounts(c.get("volumeMounts"), child(path, "volumeMounts"), volume_names)
    errs += _validate_restart_policy(c, path, init=init)
    sidecar = c.get("restartPolicy") == "Always"
    for probe_key in ("livenessProbe", "readinessProbe", "startupProbe"):
        probe = c.get(probe_key)
        if not isinstance(probe, dict):
            continue
        if init and not sidecar:
            errs.append(forbidden(child(path, probe_key), "may not be set for init containers"))
            continue
        errs += _validate_probe(probe, child(path, probe_key),
                                single_success=probe_key != "readinessProbe")
        own_grace = probe.get("terminationGracePeriodSeconds")
        if probe_key == "readinessProbe" and own_grace is not None:  # no kill follows one
            errs.append(invalid(child(child(path, probe_key), "terminationGracePeriodSeconds"),
                                own_grace, "must not be set for readinessProbes"))
    if init and not sidecar and isinstance(c.get("lifecycle"), dict):
        errs.append(forbidden(child(path, "lifecycle"),
                              "may not be set for init containers without restartPolicy=Always"))
    else:
        errs += _validate_lifecycle(as_dict(c.get("lifecycle")), child(path, "lifecycle"),
                                    grace)
    return errs


def _validate_restart_policy(c: dict[str, Any], path: str, *, init: bool) -> Errs:
    """A container's own restartPolicy: Kubernetes allows it only on init containers,
    only `Always` (a sidecar). Schooner's agent runs init containers to completion and
    has no sidecars yet, so `Always` is refused rather than stored and ignored."""
    if "restartPolicy" not in c or c.get("restartPolicy") is None:
        return []
    rpath, value = child(path, "restartPolicy"), c.get("restartPolicy")
    if not init:
        return [forbidden(rpath, "may not be set for non-init containers")]
    if value != "Always":
        return [not_supported(rpath, value, ("Always",))]
    return [forbidden(rpath, "sidecar init containers (restartPolicy Always) are not "
                      "supported by Schooner's agent yet")]


def _validate_lifecycle(lifecycle: dict[str, Any], path: str, grace: int | None) -> Errs:
    """validateLifecycle: one handler per hook (tcpSocket still accepted, as Kubernetes
    does for old objects) and a sleep that fits in the pod's grace period."""
    errs: Errs = []
    for hook in ("postStart", "preStop"):
        handler = lifecycle.get(hook)
        if not isinstance(handler, dict):
            continue
        hpath = child(path, hook)
        errs += validate_handler(handler, hpath, ("exec", "httpGet", "tcpSocket", "sleep"))
        sleep = handler.get("sleep")
        seconds = sleep.get("seconds") if isinstance(sleep, dict) else None
        if grace is not None and is_int(seconds) and not 0 <= seconds <= grace:
            errs.append(invalid(child(hpath, "sleep"), seconds, "must be non-negative and "
                                f"less than terminationGracePeriodSeconds ({grace})"))
    return errs


def _one_of(obj: dict[str, Any], key: str, supported: tuple[str, ...], path: str) -> Errs:
    """An enum field: absent is fine (defaulting fills it), `""` is Required."""
    value = obj.get(key)
    if value == "":
        return [required(child(path, key))]
    if isinstance(value, str) and value not in supported:
        return [not_supported(child(path, key), value, supported)]
    return []


def _validate_ports(ports: Any, path: str) -> Errs:
    """validateContainerPorts: port ranges, unique IANA names, protocol."""
    errs: Errs = []
    names: set[str] = set()
    for i, port in dict_items(ports):
        ppath = f"{path}[{i}]"
        number = port.get("containerPort")
        if number == 0:
            errs.append(required(child(ppath, "containerPort")))
        elif is_int(number):
            errs += check(child(ppath, "containerPort"), number, port_number)
        host_port = port.get("hostPort")
        if is_int(host_port) and host_port != 0:
            errs += check(child(ppath, "hostPort"), host_port, port_number)
        name = port.get("name")
        if isinstance(name, str) and name:
            errs += check(child(ppath, "name"), name, port_name)
            if name in names:
                errs.append(duplicate(child(ppath, "name"), name))
            names.add(name)
        errs += _one_of(port, "protocol", PROTOCOLS, ppath)
    return errs


def _validate_env(env: Any, path: str) -> Errs:
    """validateEnv: names, and `valueFrom` with exactly one source."""
    errs: Errs = []
    for i, var in dict_items(env):
        epath = f"{path}[{i}]"
        name = var.get("name")
        if name == "":
            errs.append(required(child(epath, "name")))
        elif isinstance(name, str):
            errs += check(child(epath, "name"), name, env_var_name)
        if isinstance(var.get("valueFrom"), dict):
            errs += _validate_value_from(var, child(epath, "valueFrom"))
    return errs


def _validate_value_from(var: dict[str, Any], path: str) -> Errs:
    errs: Errs = []
    source = var["valueFrom"]
    kinds = [k for k in ("fieldRef", "resourceFieldRef", "configMapKeyRef", "secretKeyRef")
             if source.get(k) is not None]
    if var.get("value"):
        errs.append(invalid(path, "", "may not be specified when `value` is not empty"))
    if not kinds:
        errs.append(invalid(path, "", "must specify one of: `fieldRef`, `resourceFieldRef`, "
                                      "`configMapKeyRef` or `secretKeyRef`"))
    elif len(kinds) > 1:
        errs.append(invalid(path, "", "may not have more than one field specified at a time"))
    for ref in ("configMapKeyRef", "secretKeyRef"):
        selector = source.get(ref)
        if isinstance(selector, dict):
            errs += _validate_key_selector(selector, child(path, ref))
    field_ref = source.get("fieldRef")
    if isinstance(field_ref, dict):
        fpath = child(path, "fieldRef")
        api_version, field_path = field_ref.get("apiVersion"), field_ref.get("fieldPath")
        if isinstance(api_version, str) and api_version not in ("", "v1"):
            errs.append(not_supported(child(fpath, "apiVersion"), api_version, ("v1",)))
        if field_path == "":
            errs.append(required(child(fpath, "fieldPath")))
        elif (isinstance(field_path, str) and field_path not in _FIELD_REF_PATHS
              and not _FIELD_REF_SUBSCRIPT.fullmatch(field_path)):
            errs.append(not_supported(child(fpath, "fieldPath"), field_path,
                                      (*_FIELD_REF_PATHS, "metadata.labels['<KEY>']",
                                       "metadata.annotations['<KEY>']")))
    return errs


def _validate_key_selector(selector: dict[str, Any], path: str) -> Errs:
    errs: Errs = []
    if not selector.get("name"):
        errs.append(required(child(path, "name")))
    key = selector.get("key")
    if key == "":
        errs.append(required(child(path, "key")))
    elif isinstance(key, str):
        errs += check(child(path, "key"), key, config_key)
    return errs


def _validate_env_from(env_from: Any, path: str) -> Errs:
    """validateEnvFrom: exactly one of `configMapRef`/`secretRef`, each naming its object."""
    errs: Errs = []
    for i, source in dict_items(env_from):
        spath = f"{path}[{i}]"
        prefix = source.get("prefix")
        if isinstance(prefix, str) and prefix:
            errs += check(child(spath, "prefix"), prefix, env_var_name)
        refs = [k for k in ("configMapRef", "secretRef") if source.get(k) is not None]
        if not refs:
            errs.append(invalid(spath, "", "must specify one of: `configMapRef` or `secretRef`"))
        elif len(refs) > 1:
            errs.append(invalid(spath, "", "may not have more than one field specified at a time"))
        for ref in refs:
            if isinstance(source[ref], dict) and not source[ref].get("name"):
                errs.append(required(child(child(spath, ref), "name")))
    return errs


def _validate_resources(resources: Any, path: str) -> Errs:
    """ValidateResourceRequirements: names, non-negative quantities, requests <= limits."""
    errs: Errs = []
    parsed: dict[str, dict[str, tuple[Any, Decimal]]] = {"limits": {}, "requests": {}}
    for section in ("limits", "requests"):
        for name, raw in as_dict(as_dict(resources).get(section)).items():
            qpath = f"{child(path, section)}[{name}]"
            if "/" not in name and name not in _CONTAINER_RESOURCES \
                    and not name.startswith("hugepages-"):
                errs.append(invalid(qpath, name, "must be a standard resource for containers"))
            if isinstance(raw, bool) or not isinstance(raw, str | int | float):
                continue  # the type pass reports it
            try:
                value = parse_quantity(raw)
            except ValueError:
                errs.append(invalid(qpath, raw, "quantities must match the regular expression "
                                                f"'{QUANTITY_PATTERN}'"))
                continue
            if value < 0:
                errs.append(invalid(qpath, raw, "must be greater than or equal to 0"))
            parsed[section][name] = (raw, value)
    for name, (raw, request) in parsed["requests"].items():
        limit = parsed["limits"].get(name)
        if limit is not None and request > limit[1]:
            errs.append(invalid(f"{child(path, 'requests')}[{name}]", str(raw),
                                f"must be less than or equal to {name} limit of {limit[0]}"))
    return errs


def _validate_mounts(mounts: Any, path: str, volume_names: set[str]) -> Errs:
    """validateVolumeMounts: each names a pod volume; mount paths are unique."""
    errs: Errs = []
    seen: set[str] = set()
    for i, mount in dict_items(mounts):
        mpath = f"{path}[{i}]"
        name, mount_path = mount.get("name"), mount.get("mountPath")
        if name == "":
            errs.append(required(child(mpath, "name")))
        elif isinstance(name, str) and name not in volume_names:
            errs.append(not_found(child(mpath, "name"), name))
        if mount_path == "":
            errs.append(required(child(mpath, "mountPath")))
        elif isinstance(mount_path, str):
            if mount_path in seen:
                errs.append(invalid(child(mpath, "mountPath"), mount_path, "must be unique"))
            seen.add(mount_path)
    return errs


def validate_handler(handler: dict[str, Any], path: str, kinds: tuple[str, ...]) -> Errs:
    """validateHandler: exactly one action, each well formed."""
    errs: Errs = []
    present = [k for k in kinds if handler.get(k) is not None]
    if not present:
        errs.append(required(path, "must specify a handler type"))
    for extra in present[1:]:
        errs.append(forbidden(child(path, extra), "may not specify more than 1 handler type"))
    exec_action = handler.get("exec")
    if isinstance(exec_action, dict) and not exec_action.get("command"):
        errs.append(required(child(child(path, "exec"), "command")))
    for action in ("httpGet", "tcpSocket"):
        spec = handler.get(action)
        if isinstance(spec, dict):
            errs += port_num_or_name(child(child(path, action), "port"), spec.get("port"))
    http_get = handler.get("httpGet")
    if isinstance(http_get, dict):
        errs += _one_of(http_get, "scheme", ("HTTP", "HTTPS"), child(path, "httpGet"))
        for _, header in dict_items(http_get.get("httpHeaders")):
            if isinstance(header.get("name"), str):
                errs += check(child(child(path, "httpGet"), "httpHeaders"), header["name"],
                              _http_header_name)
    return errs


def _http_header_name(value: str) -> list[str]:
    """validation.IsHTTPHeaderName."""
    if _HTTP_HEADER_NAME.fullmatch(value):
        return []
    return [regex_error("a valid HTTP header must consist of alphanumeric characters or '-'",
                        _HTTP_HEADER_NAME.pattern, "X-Header-Name")]


def _validate_probe(probe: dict[str, Any], path: str, *, single_success: bool) -> Errs:
    """validateProbe: one handler, non-negative timings, successThreshold 1 unless readiness."""
    errs = validate_handler(probe, path, ("exec", "httpGet", "tcpSocket", "grpc"))
    for key in ("initialDelaySeconds", "timeoutSeconds", "periodSeconds",
                "successThreshold", "failureThreshold", "terminationGracePeriodSeconds"):
        errs += non_negative(child(path, key), probe.get(key))
    success = probe.get("successThreshold")
    if single_success and is_int(success) and success != 1:
        errs.append(invalid(child(path, "successThreshold"), success, "must be 1"))
    return errs
