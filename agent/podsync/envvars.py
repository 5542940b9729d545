"""A container's environment and command line, by Kubernetes' rules (pure functions).

* Environment (kubelet's `makeEnvironmentVariables`): `envFrom` sources first,
  in order, then `env` entries, each overriding what came before; values may
  use `$(VAR)` references to variables defined earlier; `valueFrom` reads a
  ConfigMap or Secret key, or a pod field (the downward API).
* Command line (`ExpandContainerCommandAndArgs` plus the runtime's rule):
  `command` replaces the image's ENTRYPOINT, `args` replace its CMD; giving
  only `command` drops the image's CMD, giving only `args` keeps its
  ENTRYPOINT. `$(VAR)` in either expands from the container's environment.

ConfigMaps and Secrets are looked up through a callback, so these functions do
no I/O; a missing non-optional reference raises `ConfigError`, shown as the
container's `CreateContainerConfigError`.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from typing import Any

from apimachinery.meta import Object
from apimachinery.quantity import cpu_millis, memory_bytes

# (kind, name) -> the object, or None when it does not exist
Lookup = Callable[[str, str], Object | None]

_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
_FIELD_LABEL = re.compile(r"^metadata\.(labels|annotations)\['(.+)'\]$")


class ConfigError(Exception):
    """A container cannot be configured (kubelet's CreateContainerConfigError)."""


def expand(text: str, env: dict[str, str]) -> str:
    """Kubernetes' `$(VAR)` expansion: known names are replaced, `$$` escapes a `$`.

    Unknown references stay as written, as in k8s.io/kubernetes/third_party/
    forked/golang/expansion.
    """
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch != "$" or i + 1 >= len(text):
            out.append(ch)
            i += 1
            continue
        nxt = text[i + 1]
        if nxt == "$":
            out.append("$")
            i += 2
        elif nxt == "(" and (end := text.find(")", i + 2)) != -1:
            name = text[i + 2:end]
            out.append(env[name] if name in env else text[i:end + 1])
            i = end + 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def docker_command(container: Object, env: dict[str, str]
                   ) -> tuple[list[str] | None, list[str] | None]:
    """(entrypoint, cmd) for the runtime: None leaves the image's own value in place.

    Docker uses the image's CMD only when no ENTRYPOINT is given, which is
    exactly Kubernetes' rule that `command` alone drops the image's CMD.
    """
    command = [expand(str(c), env) for c in container.get("command") or []]
    args = [expand(str(a), env) for a in container.get("args") or []]
    return (command or None), (args or None)


def object_data(obj: Object, kind: str) -> dict[str, str]:
    """A ConfigMap's or Secret's keys as text (Secret `data` is base64)."""
    out: dict[str, str] = {}
    for key, raw in (obj.get("data") or {}).items():
        out[key] = _b64_text(raw) if kind == "secret" else str(raw)
    if kind == "configmap":
        for key, raw in (obj.get("binaryData") or {}).items():
            out[key] = _b64_text(raw)
    for key, value in (obj.get("stringData") or {}).items():
        out[key] = str(value)
    return out


def _b64_text(raw: Any) -> str:
    try:
        return base64.b64decode(str(raw)).decode("utf-8", "replace")
    except (binascii.Error, ValueError):
        return str(raw)


def _kind_word(kind: str) -> str:
    return "ConfigMap" if kind == "configmap" else "Secret"


def _from_source(source: Object, lookup: Lookup) -> dict[str, str]:
    prefix = str(source.get("prefix") or "")
    for field, kind in (("configMapRef", "configmap"), ("secretRef", "secret")):
        ref = source.get(field)
        if not ref:
            continue
        obj = lookup(kind, str(ref.get("name") or ""))
        if obj is None:
            if ref.get("optional"):
                return {}
            raise ConfigError(f'{kind} "{ref.get("name")}" not found')
        return {prefix + k: v for k, v in object_data(obj, kind).items()
                if _ENV_NAME.match(prefix + k)}
    return {}


def _key_ref(ref: Object, kind: str, namespace: str, lookup: Lookup) -> str | None:
    name, key = str(ref.get("name") or ""), str(ref.get("key") or "")
    obj = lookup(kind, name)
    if obj is None:
        if ref.get("optional"):
            return None
        raise ConfigError(f'{kind} "{name}" not found')
    data = object_data(obj, kind)
    if key not in data:
        if ref.get("optional"):
            return None
        raise ConfigError(f"couldn't find key {key} in {_kind_word(kind)} {namespace}/{name}")
    return data[key]


def field_value(pod: Object, path: str, pod_ip: str, host_ip: str) -> str:
    """The downward API's `fieldRef.fieldPath` for one pod."""
    meta, spec = pod.get("metadata") or {}, pod.get("spec") or {}
    simple = {
        "metadata.name": meta.get("name"), "metadata.namespace": meta.get("namespace"),
        "metadata.uid": meta.get("uid"), "spec.nodeName": spec.get("nodeName"),
        "spec.serviceAccountName": spec.get("serviceAccountName"),
        "status.podIP": pod_ip, "status.podIPs": pod_ip, "status.hostIP": host_ip,
        "status.hostIPs": host_ip,
    }
    if path in simple:
        return str(simple[path] or "")
    match = _FIELD_LABEL.match(path)
    if match:
        return str((meta.get(match.group(1)) or {}).get(match.group(2), ""))
    raise ConfigError(f"unsupported fieldPath {path!r}")


def _resource_value(container: Object, ref: Object) -> str:
    """`resourceFieldRef`: a limit (or request) in units of `divisor` (default 1), rounded up."""
    resource = str(ref.get("resource") or "")
    section, _, name = resource.partition(".")
    value = ((container.get("resources") or {}).get(section) or {}).get(name)
    if value is None:
        return "0"
    if name == "cpu":
        divisor = cpu_millis(ref.get("divisor") or "1")
        return str(-(-cpu_millis(value) // max(divisor, 1)))
    divisor = memory_bytes(ref.get("divisor") or "1")
    return str(-(-memory_bytes(value) // max(divisor, 1)))


def _source_container(pod: Object, container: Object, ref: Object) -> Object:
    """The container whose resources a resourceFieldRef reads: its `containerName`, else
    the variable's own (kubelet's containerResourceRuntimeValue)."""
    wanted = ref.get("containerName")
    if not wanted or wanted == container.get("name"):
        return container
    spec = pod.get("spec") or {}
    for other in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
        if other.get("name") == wanted:
            return dict(other)
    raise ConfigError(f'container "{wanted}" not found in pod, its resources cannot be read')


def build_env(pod: Object, container: Object, lookup: Lookup, *, pod_ip: str,
              host_ip: str, services: dict[str, str] | None = None) -> dict[str, str]:
    """The container's environment, in Kubernetes' order and precedence: `services`
    (the Services' variables, serviceenv.py) first, which `$(VAR)` may name and the
    container's own `envFrom` and `env` override."""
    namespace = str((pod.get("metadata") or {}).get("namespace") or "")
    env: dict[str, str] = dict(services or {})
    for source in container.get("envFrom") or []:
        env.update(_from_source(source, lookup))
    for var in container.get("env") or []:
        name, value_from = str(var.get("name") or ""), var.get("valueFrom")
        if not value_from:
            env[name] = expand(str(var.get("value") or ""), env)
            continue
        value: str | None
        if value_from.get("configMapKeyRef"):
            value = _key_ref(value_from["configMapKeyRef"], "configmap", namespace, lookup)
        elif value_from.get("secretKeyRef"):
            value = _key_ref(value_from["secretKeyRef"], "secret", namespace, lookup)
        elif value_from.get("fieldRef"):
            value = field_value(pod, str(value_from["fieldRef"].get("fieldPath") or ""),
                                pod_ip, host_ip)
        elif value_from.get("resourceFieldRef"):
            ref = value_from["resourceFieldRef"]
            value = _resource_value(_source_container(pod, container, ref), ref)
        else:
            value = None
        if value is not None:
            env[name] = value
    return env


def referenced_objects(pod: Object) -> set[tuple[str, str]]:
    """Every (kind, name) the pod's env and volumes read, so they can be fetched first."""
    spec = pod.get("spec") or {}
    refs: set[tuple[str, str]] = set()
    for container in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]:
        for source in container.get("envFrom") or []:
            if source.get("configMapRef"):
                refs.add(("configmap", str(source["configMapRef"].get("name") or "")))
            if source.get("secretRef"):
                refs.add(("secret", str(source["secretRef"].get("name") or "")))
        for var in container.get("env") or []:
            value_from = var.get("valueFrom") or {}
            if value_from.get("configMapKeyRef"):
                refs.add(("configmap", str(value_from["configMapKeyRef"].get("name") or "")))
            if value_from.get("secretKeyRef"):
                refs.add(("secret", str(value_from["secretKeyRef"].get("name") or "")))
    for volume in spec.get("volumes") or []:
        if volume.get("configMap"):
            refs.add(("configmap", str(volume["configMap"].get("name") or "")))
        if volume.get("secret"):
            refs.add(("secret", str(volume["secret"].get("secretName") or "")))
        for source in (volume.get("projected") or {}).get("sources") or []:
            for key, kind in (("configMap", "configmap"), ("secret", "secret")):
                if isinstance(source, dict) and source.get(key):
                    refs.add((kind, str(source[key].get("name") or "")))
    return refs
