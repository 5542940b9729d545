"""Pod volumes: emptyDir as a named volume, configMap/secret as files, hostPath, mounts."""

from __future__ import annotations

import base64
import shutil
import stat
from pathlib import Path

import pytest

from agent.podsync.envvars import ConfigError
from agent.podsync.volumes import (
    PlannedVolume,
    adopt_claim_volumes,
    claim_volume_name,
    container_mounts,
    filesystem_of,
    materialize,
    memory_dir,
    plan_volumes,
    projected_files,
    secret_volume_dir,
)
from agent.runtime.container import Mount
from apimachinery.meta import Object
from tests.unit.agent.helpers import make_pod

OBJECTS: dict[tuple[str, str], Object] = {
    ("configmap", "cfg"): {"data": {"a.conf": "A", "b.conf": "B"}},
    ("secret", "sec"): {"data": {"token": base64.b64encode(b"t0k").decode()}},
}


def lookup(kind: str, name: str) -> Object | None:
    return OBJECTS.get((kind, name))


def pod_with(volumes: list[Object], mounts: list[Object]) -> Object:
    pod = make_pod("a")
    pod["spec"]["volumes"] = volumes
    pod["spec"]["containers"][0]["volumeMounts"] = mounts
    return pod


def test_every_supported_kind(tmp_path: Path) -> None:
    pod = pod_with([{"name": "scratch", "emptyDir": {}},
                    {"name": "mem", "emptyDir": {"medium": "Memory", "sizeLimit": "1Mi"}},
                    {"name": "cfg", "configMap": {"name": "cfg"}},
                    {"name": "sec", "secret": {"secretName": "sec", "defaultMode": 0o400}},
                    {"name": "host", "hostPath": {"path": str(tmp_path / "h"),
                                                  "type": "DirectoryOrCreate"}}],
                   [{"name": "scratch", "mountPath": "/s"},
                    {"name": "cfg", "mountPath": "/etc/cfg"},
                    {"name": "cfg", "mountPath": "/etc/a.conf", "subPath": "a.conf"},
                    {"name": "host", "mountPath": "/h", "readOnly": True}])
    planned = plan_volumes(pod, tmp_path / "root", lookup)
    scratch = planned["scratch"].runtime_volume
    assert scratch is not None and scratch.name == "schooner-uid-1-scratch"
    assert scratch.labels["schooner.pod.uid"] == "uid-1" and not scratch.memory
    mem = planned["mem"].runtime_volume
    assert mem is not None and mem.memory and mem.size_bytes == 1024 * 1024
    cfg_dir = tmp_path / "root" / "pods" / "uid-1" / "volumes" / "cfg"
    assert planned["cfg"].files == {"a.conf": (b"A", 0o644), "b.conf": (b"B", 0o644)}
    assert planned["sec"].files == {"token": (b"t0k", 0o400)}
    assert container_mounts(pod["spec"]["containers"][0], planned) == (
        Mount("volume", "schooner-uid-1-scratch", "/s"),
        Mount("bind", str(cfg_dir), "/etc/cfg", read_only=True),
        Mount("bind", str(cfg_dir / "a.conf"), "/etc/a.conf", read_only=True),
        Mount("bind", str(tmp_path / "h"), "/h", read_only=True))
    for volume in planned.values():
        materialize(volume)
    assert (cfg_dir / "b.conf").read_text() == "B"
    # The Secret in memory, not under the root dir (on disk).
    token = secret_volume_dir(tmp_path / "root", "uid-1", "sec") / "token"
    try:
        assert token.read_bytes() == b"t0k" and stat.S_IMODE(token.stat().st_mode) == 0o400
        assert filesystem_of(token) == "tmpfs"
        assert stat.S_IMODE(memory_dir(tmp_path / "root").stat().st_mode) == 0o700
        assert not (tmp_path / "root" / "pods" / "uid-1" / "volumes" / "sec").exists()
    finally:
        shutil.rmtree(memory_dir(tmp_path / "root"))
    assert (tmp_path / "h").is_dir()


MOUNTS = """\
/dev/sda1 / ext4 rw 0 0
tmpfs /dev/shm tmpfs rw 0 0
/dev/sdb1 /dev/shm/disk ext4 rw 0 0
tmpfs /run tmpfs rw 0 0
"""


def test_filesystem_of_takes_the_longest_mount_point() -> None:
    assert filesystem_of(Path("/dev/shm/schooner-x/pods"), MOUNTS) == "tmpfs"
    assert filesystem_of(Path("/dev/shm/disk/x"), MOUNTS) == "ext4"
    assert filesystem_of(Path("/dev/shmx"), MOUNTS) == "ext4"
    assert filesystem_of(Path("/run"), MOUNTS) == "tmpfs"


@pytest.mark.parametrize("plugin", ["secret", "projected"])
def test_a_secret_is_never_written_off_tmpfs(tmp_path: Path, plugin: str) -> None:
    volume = PlannedVolume("sec", plugin, "bind", str(tmp_path / "sec"), read_only=True,
                           files={"token": (b"t0k", 0o400)})
    if filesystem_of(tmp_path) in ("tmpfs", "ramfs"):
        pytest.skip("the test's temporary folder is itself in memory")
    with pytest.raises(ConfigError, match="not tmpfs: a Secret or token is never written"):
        materialize(volume)
    assert not (tmp_path / "sec").exists()


def test_items_choose_keys_paths_and_modes() -> None:
    files = projected_files({"items": [{"key": "a.conf", "path": "sub/renamed", "mode": 0o600}],
                             "defaultMode": 0o444},
                            {"a.conf": b"A", "b.conf": b"B"}, kind="configmap", name="v")
    assert files == {"sub/renamed": (b"A", 0o600)}


@pytest.mark.parametrize(("volume", "message"), [
    ({"name": "v", "configMap": {"name": "nope"}}, 'configmap "nope" not found'),
    ({"name": "v", "secret": {"secretName": "sec", "items": [{"key": "x", "path": "x"}]}},
     "non-existent secret key: x"),
    ({"name": "v", "configMap": {"name": "cfg", "items": [{"key": "a.conf", "path": "../x"}]}},
     "invalid path"),
    ({"name": "v", "persistentVolumeClaim": {"claimName": ""}}, "claimName is empty"),
    ({"name": "v", "nfs": {"server": "x"}}, "unsupported volume type nfs"),
])
def test_volumes_that_cannot_be_provided(volume: Object, message: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=message):
        plan_volumes(pod_with([volume], []), tmp_path, lookup)


def test_optional_missing_config_map_is_an_empty_directory(tmp_path: Path) -> None:
    planned = plan_volumes(pod_with([{"name": "v", "configMap": {"name": "nope",
                                                                 "optional": True}}], []),
                           tmp_path, lookup)
    materialize(planned["v"])
    assert Path(planned["v"].source).is_dir() and planned["v"].files == {}


def test_mount_of_an_unknown_volume(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match='volume "x" not found'):
        container_mounts({"volumeMounts": [{"name": "x", "mountPath": "/x"}]}, {})


def test_claims_become_node_volumes_that_outlive_the_pod(tmp_path: Path) -> None:
    """A claim's volume is named after the claim and labelled with it, not with the pod."""
    pod = pod_with([{"name": "data", "persistentVolumeClaim": {"claimName": "data-db-0"}}],
                   [{"name": "data", "mountPath": "/var/lib/db"}])
    planned = plan_volumes(pod, tmp_path, lookup)["data"]
    ns = pod["metadata"].get("namespace", "")
    assert planned.source == f"schooner-pvc_{ns}_data-db-0"
    assert planned.runtime_volume is not None
    assert "schooner.pod.uid" not in planned.runtime_volume.labels
    assert planned.runtime_volume.labels["schooner.claim.name"] == "data-db-0"


def test_claim_volume_names_cannot_collide_across_namespaces() -> None:
    """Claim `c` of namespace `a-b` and claim `b-c` of namespace `a` get two volumes."""
    assert claim_volume_name("a-b", "c") != claim_volume_name("a", "b-c")


def test_a_volume_held_for_the_claim_is_adopted_whatever_its_name(tmp_path: Path) -> None:
    """A volume an older Schooner made (`schooner-pvc-<ns>-<claim>`) keeps its claim's data;
    a volume labelled for another claim that shares the old name is not taken."""
    pod = pod_with([{"name": "data", "persistentVolumeClaim": {"claimName": "b-c"}}],
                   [{"name": "data", "mountPath": "/d"}])
    ns = pod["metadata"].get("namespace", "")
    planned = plan_volumes(pod, tmp_path, lookup)
    held = [(ns, "b-c", f"schooner-pvc-{ns}-b-c"), (f"{ns}-b", "c", "other")]
    adopted = adopt_claim_volumes(planned, held)["data"]
    assert adopted.source == adopted.runtime_volume.name == f"schooner-pvc-{ns}-b-c"  # type: ignore[union-attr]
    assert adopt_claim_volumes(planned, [(f"{ns}-b", "c", f"schooner-pvc-{ns}-b-c")]) == planned
