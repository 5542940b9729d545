"""Pod volumes: what each volume becomes on this host, and where containers see it.

Mirrors the kubelet's volume plugins for the kinds Schooner supports:
* `emptyDir` -> a runtime volume `schooner-<pod uid>-<volume>` shared by the
  pod's containers (tmpfs-backed for `medium: Memory`), removed with the pod;
* `configMap` / `secret` -> files under `<root-dir>/pods/<uid>/volumes/<name>/`,
  one per key (or per `items` entry, at its `path`), with `defaultMode` (or
  the item's `mode`), bind-mounted read-only as the kubelet mounts them; a
  secret's files go instead to this agent's folder on the host's memory-backed
  `/dev/shm` (`memory_dir`), checked to be a tmpfs before a byte is written, so
  a Secret never lands on the node's disk (the kubelet mounts a tmpfs for them);
* `projected` / `downwardAPI` -> files from ConfigMaps, Secrets, the pod's own
  fields and a service-account token bound to the pod (`projected.py`), in the
  memory folder as a secret's, written atomically through a `..data` symlink so the
  agent can renew the token under a running program (`refresh_projected`);
* `hostPath` -> a bind mount of the host path (`DirectoryOrCreate`,
  `FileOrCreate` create it first);
* `persistentVolumeClaim` -> a runtime volume `schooner-pvc_<namespace>_<claim>`
  on this node, labelled with the claim, not the pod, so it outlives the pod:
  a StatefulSet pod that comes back to this node finds its data (the
  scheduler's volume affinity to bring it back here is issue 4's).
Planning (`plan_volumes`, `container_mounts`, `projected_files`) is pure;
`materialize` writes the files.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from agent.podsync.envvars import ConfigError, Lookup
from agent.podsync.projected import TokenLookup, write_atomically
from agent.podsync.projected import projected_files as projection_files
from agent.runtime.container import (
    LABEL_CLAIM_NAME,
    LABEL_CLAIM_NAMESPACE,
    LABEL_POD_NAME,
    LABEL_POD_NAMESPACE,
    LABEL_POD_UID,
    Mount,
    MountKind,
    VolumeSpec,
)
from apimachinery.meta import Object
from apimachinery.quantity import memory_bytes

DEFAULT_MODE = 0o644


@dataclass(frozen=True)
class PlannedVolume:
    """One pod volume as this host provides it."""

    name: str
    plugin: str  # "emptyDir" | "configMap" | "secret" | "projected" | "hostPath" | ...
    kind: MountKind  # how it is mounted
    source: str  # host path, or the runtime volume's name
    read_only: bool = False
    files: dict[str, tuple[bytes, int]] = field(default_factory=dict)  # configMap/secret
    runtime_volume: VolumeSpec | None = None  # emptyDir, persistentVolumeClaim
    host_path_type: str = ""


def emptydir_name(pod_uid: str, volume: str) -> str:
    return f"schooner-{pod_uid}-{volume}"


def claim_volume_name(namespace: str, claim: str) -> str:
    """The node-local volume that backs a claim; stable, so a returning pod finds it.

    `_` joins the parts because neither a namespace (a DNS label) nor a claim
    name (a DNS subdomain) may hold one, so no two claims share a volume; with
    `-`, claim `c` of namespace `a-b` and claim `b-c` of namespace `a` did.
    """
    return f"schooner-pvc_{namespace}_{claim}"


def adopt_claim_volumes(planned: dict[str, PlannedVolume],
                        held: list[tuple[str, str, str]]) -> dict[str, PlannedVolume]:
    """`planned` with each claim backed by the volume this node already holds for it.

    Volumes are found by their claim labels, not by name, so a volume made by
    an older Schooner under the former `schooner-pvc-<namespace>-<claim>` name
    keeps serving its claim (and its data) after an upgrade.
    """
    by_claim = {(ns, claim): name for ns, claim, name in held}
    adopted = dict(planned)
    for key, volume in planned.items():
        spec = volume.runtime_volume
        if volume.plugin != "persistentVolumeClaim" or spec is None:
            continue
        name = by_claim.get((spec.labels.get(LABEL_CLAIM_NAMESPACE, ""),
                             spec.labels.get(LABEL_CLAIM_NAME, "")))
        if name and name != spec.name:
            adopted[key] = replace(volume, source=name,
                                   runtime_volume=replace(spec, name=name))
    return adopted


def volume_dir(root_dir: Path, pod_uid: str, volume: str) -> Path:
    return root_dir / "pods" / pod_uid / "volumes" / volume


MEMORY_ROOT = Path("/dev/shm")
MEMORY_FILESYSTEMS = frozenset({"tmpfs", "ramfs"})


def memory_dir(root_dir: Path) -> Path:
    """This agent's folder in memory (one per --root-dir, so agents sharing a host keep
    apart): secret volumes live under `pods/<uid>/volumes/<name>` here."""
    digest = hashlib.sha256(str(root_dir).encode()).hexdigest()[:12]
    return MEMORY_ROOT / f"schooner-{digest}"


def secret_volume_dir(root_dir: Path, pod_uid: str, volume: str) -> Path:
    return memory_dir(root_dir) / "pods" / pod_uid / "volumes" / volume


def filesystem_of(path: Path, mounts: str | None = None) -> str:
    """The type of the filesystem `path` is on: its longest mount point in /proc/self/mounts."""
    if mounts is None:
        mounts = Path("/proc/self/mounts").read_text()
    best, fstype = "", ""
    target = str(path)
    for line in mounts.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        point = fields[1].replace("\\040", " ")
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, fstype = point, fields[2]
    return fstype


def projected_files(source: Object, data: dict[str, bytes], *, kind: str,
                    name: str) -> dict[str, tuple[bytes, int]]:
    """Relative path -> (content, mode) for a configMap/secret volume (`items` honoured)."""
    default_mode = int(source.get("defaultMode") or DEFAULT_MODE)
    items = source.get("items")
    if not items:
        return {key: (value, default_mode) for key, value in data.items()}
    files: dict[str, tuple[bytes, int]] = {}
    for item in items:
        key, path = str(item.get("key") or ""), str(item.get("path") or "")
        if key not in data:
            if source.get("optional"):
                continue
            raise ConfigError(f"configmap references non-existent config key: {key}"
                              if kind == "configmap" else
                              f"references non-existent secret key: {key}")
        if not path or path.startswith("/") or ".." in Path(path).parts:
            raise ConfigError(f'invalid path "{path}" in {kind} volume "{name}"')
        files[path] = (data[key], int(item.get("mode") or default_mode))
    return files


def _source_bytes(obj: Object, kind: str) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    encoded = "data" if kind == "secret" else "binaryData"
    for key, raw in (obj.get(encoded) or {}).items():
        out[key] = base64.b64decode(str(raw))
    if kind == "configmap":
        for key, raw in (obj.get("data") or {}).items():
            out[key] = str(raw).encode()
    for key, raw in (obj.get("stringData") or {}).items():
        out[key] = str(raw).encode()
    return out


def _labels(pod: Object) -> dict[str, str]:
    meta = pod.get("metadata") or {}
    return {LABEL_POD_UID: str(meta.get("uid") or ""),
            LABEL_POD_NAME: str(meta.get("name") or ""),
            LABEL_POD_NAMESPACE: str(meta.get("namespace") or "")}


def _no_tokens(_volume: str, _index: int) -> str | None:
    return None


def _plan_one(pod: Object, volume: Object, root_dir: Path, lookup: Lookup,
              tokens: TokenLookup) -> PlannedVolume:
    uid, name = str((pod.get("metadata") or {}).get("uid") or ""), str(volume.get("name"))
    if "projected" in volume or "downwardAPI" in volume:
        files = projection_files(pod, volume, lookup, tokens, _source_bytes)
        return PlannedVolume(name, "projected", "bind",
                             str(secret_volume_dir(root_dir, uid, name)), read_only=True,
                             files=files)
    if "emptyDir" in volume:
        empty = volume.get("emptyDir") or {}
        limit = empty.get("sizeLimit")
        spec = VolumeSpec(emptydir_name(uid, name), _labels(pod),
                          memory=empty.get("medium") == "Memory",
                          size_bytes=memory_bytes(limit) if limit else None)
        return PlannedVolume(name, "emptyDir", "volume", spec.name, runtime_volume=spec)
    for kind, key, ref_field in (("configmap", "configMap", "name"),
                                 ("secret", "secret", "secretName")):
        if key in volume:
            source = volume.get(key) or {}
            ref = str(source.get(ref_field) or "")
            obj = lookup(kind, ref)
            if obj is None and not source.get("optional"):
                raise ConfigError(f'{kind} "{ref}" not found')
            data = _source_bytes(obj, kind) if obj is not None else {}
            files = projected_files(source, data, kind=kind, name=name)
            where = secret_volume_dir if kind == "secret" else volume_dir
            return PlannedVolume(name, key, "bind", str(where(root_dir, uid, name)),
                                 read_only=True, files=files)
    if "persistentVolumeClaim" in volume:
        claim = str((volume.get("persistentVolumeClaim") or {}).get("claimName") or "")
        if not claim:
            raise ConfigError(f'volume "{name}": persistentVolumeClaim.claimName is empty')
        namespace = str((pod.get("metadata") or {}).get("namespace") or "")
        spec = VolumeSpec(claim_volume_name(namespace, claim),
                          {LABEL_CLAIM_NAMESPACE: namespace, LABEL_CLAIM_NAME: claim})
        return PlannedVolume(name, "persistentVolumeClaim", "volume", spec.name,
                             read_only=bool((volume.get("persistentVolumeClaim") or {})
                                            .get("readOnly")),
                             runtime_volume=spec)
    if "hostPath" in volume:
        host = volume.get("hostPath") or {}
        return PlannedVolume(name, "hostPath", "bind", str(host.get("path") or ""),
                             host_path_type=str(host.get("type") or ""))
    kinds = sorted(k for k in volume if k != "name")
    raise ConfigError(f'volume "{name}": unsupported volume type {", ".join(kinds) or "?"}')


def plan_volumes(pod: Object, root_dir: Path, lookup: Lookup,
                 tokens: TokenLookup = _no_tokens) -> dict[str, PlannedVolume]:
    """Every volume of the pod, planned; ConfigError if one cannot be provided.
    `tokens` gives each projected serviceAccountToken source its token."""
    return {str(v.get("name")): _plan_one(pod, v, root_dir, lookup, tokens)
            for v in (pod.get("spec") or {}).get("volumes") or []}


def container_mounts(container: Object, planned: dict[str, PlannedVolume]) -> tuple[Mount, ...]:
    """The container's `volumeMounts` as runtime mounts (`subPath` for host-backed volumes)."""
    mounts: list[Mount] = []
    for vm in container.get("volumeMounts") or []:
        name = str(vm.get("name") or "")
        volume = planned.get(name)
        if volume is None:
            raise ConfigError(f'volume "{name}" not found in the pod spec')
        source, sub = volume.source, str(vm.get("subPath") or "")
        if sub:
            if volume.kind != "bind" or sub.startswith("/") or ".." in Path(sub).parts:
                raise ConfigError(f'subPath "{sub}" is not supported for volume "{name}"')
            source = str(Path(source) / sub)
        mounts.append(Mount(volume.kind, source, str(vm.get("mountPath") or ""),
                            read_only=volume.read_only or bool(vm.get("readOnly"))))
    return tuple(mounts)


def materialize(volume: PlannedVolume) -> None:
    """Write a configMap/secret/projected volume's files, or prepare a hostPath; blocking
    file I/O."""
    if volume.plugin == "projected":
        base = Path(volume.source)
        _check_memory(base)
        write_atomically(base, volume.files)
        return
    if volume.plugin in ("configMap", "secret"):
        base = Path(volume.source)
        if volume.plugin == "secret":
            _check_memory(base)
        base.mkdir(parents=True, exist_ok=True)
        for rel, (content, mode) in volume.files.items():
            target = base / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.tmp")
            tmp.write_bytes(content)
            os.chmod(tmp, mode & 0o777)
            os.replace(tmp, target)  # atomic, as the kubelet's AtomicWriter intends
        return
    _prepare_host_path(volume)


def _check_memory(base: Path) -> None:
    """Refuse to write a Secret where it would reach a disk; the agent's memory folder is
    its own (0700): other users of the host cannot walk to a pod's files."""
    for parent in base.parents:
        if parent.parent == MEMORY_ROOT:
            parent.mkdir(mode=0o700, exist_ok=True)
            break
    fstype = filesystem_of(base)
    if fstype not in MEMORY_FILESYSTEMS:
        raise ConfigError(f"secret or projected volume folder {base} is on "
                          f"{fstype or 'an unknown'} filesystem, not tmpfs: a Secret or "
                          "token is never written to disk")


def _prepare_host_path(volume: PlannedVolume) -> None:
    if volume.host_path_type == "DirectoryOrCreate":
        Path(volume.source).mkdir(parents=True, exist_ok=True)
    elif volume.host_path_type == "FileOrCreate":
        Path(volume.source).parent.mkdir(parents=True, exist_ok=True)
        Path(volume.source).touch(exist_ok=True)
    elif volume.host_path_type == "Directory" and not Path(volume.source).is_dir():
        raise ConfigError(f"hostPath type check failed: {volume.source} is not a directory")
    elif volume.host_path_type == "File" and not Path(volume.source).is_file():
        raise ConfigError(f"hostPath type check failed: {volume.source} is not a file")
