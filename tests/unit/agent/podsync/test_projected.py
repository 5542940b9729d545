"""Projected and downwardAPI volumes: the files planned, and the atomic `..data` writes."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from agent.podsync.envvars import ConfigError, referenced_objects
from agent.podsync.projected import DATA_DIR, downward_value, projected_files, write_atomically
from agent.podsync.volumes import _source_bytes
from apimachinery.meta import Object

POD: Object = {"metadata": {"name": "web", "namespace": "team", "uid": "u-1",
                            "labels": {"app": "web", "tier": "front"},
                            "annotations": {"note": 'say "hi"'}},
               "spec": {"serviceAccountName": "robot"}}
ROOT_CA: Object = {"kind": "ConfigMap", "metadata": {"name": "kube-root-ca.crt"},
                   "data": {"ca.crt": "PEM", "other": "x"}}
SECRET: Object = {"kind": "Secret", "metadata": {"name": "creds"},
                  "data": {"user": "YWRh"}}  # "ada"
KUBE_API_ACCESS: Object = {"name": "kube-api-access-abcde", "projected": {
    "defaultMode": 0o644, "sources": [
        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
        {"configMap": {"name": "kube-root-ca.crt",
                       "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
        {"downwardAPI": {"items": [{"path": "namespace",
                                    "fieldRef": {"fieldPath": "metadata.namespace"}}]}}]}}


def lookup(kind: str, name: str) -> Object | None:
    return {("configmap", "kube-root-ca.crt"): ROOT_CA, ("secret", "creds"): SECRET}.get(
        (kind, name))


def files(volume: Object, token: str | None = "jwt") -> dict[str, tuple[bytes, int]]:
    return projected_files(POD, volume, lookup, lambda v, i: token, _source_bytes)


def test_the_service_account_volume_has_token_ca_and_namespace() -> None:
    assert files(KUBE_API_ACCESS) == {"token": (b"jwt", 0o644), "ca.crt": (b"PEM", 0o644),
                                      "namespace": (b"team", 0o644)}


def test_every_source_kind_with_items_modes_and_default_mode() -> None:
    volume = {"name": "all", "projected": {"defaultMode": 0o400, "sources": [
        {"secret": {"name": "creds", "items": [{"key": "user", "path": "db/user",
                                                "mode": 0o440}]}},
        {"configMap": {"name": "kube-root-ca.crt"}},
        {"downwardAPI": {"items": [
            {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}},
            {"path": "uid", "fieldRef": {"fieldPath": "metadata.uid"}},
            {"path": "app", "fieldRef": {"fieldPath": "metadata.labels['app']"}}]}}]}}
    assert files(volume) == {
        "db/user": (b"ada", 0o440), "ca.crt": (b"PEM", 0o400), "other": (b"x", 0o400),
        "labels": (b'app="web"\ntier="front"', 0o400), "uid": (b"u-1", 0o400),
        "app": (b"web", 0o400)}


def test_a_downward_api_volume_is_one_downward_source() -> None:
    volume = {"name": "info", "downwardAPI": {"defaultMode": 0o644, "items": [
        {"path": "annotations", "fieldRef": {"fieldPath": "metadata.annotations"}},
        {"path": "name", "fieldRef": {"fieldPath": "metadata.name"}, "mode": 0o600}]}}
    assert files(volume) == {"annotations": (b'note="say \\"hi\\""', 0o644),
                             "name": (b"web", 0o600)}


@pytest.mark.parametrize("volume,message", [
    ({"name": "v", "projected": {"sources": [{"configMap": {"name": "absent"}}]}},
     'configmap "absent" not found'),
    ({"name": "v", "projected": {"sources": [{"secret": {"name": "creds", "items": [
        {"key": "nope", "path": "p"}]}}]}}, "non-existent key: nope"),
    ({"name": "v", "projected": {"sources": [{"configMap": {
        "name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "../up"}]}}]}},
     'invalid path "../up"'),
    ({"name": "v", "downwardAPI": {"items": [{"path": "x", "fieldRef": {
        "fieldPath": "status.podIP"}}]}}, "unsupported fieldPath"),
])
def test_what_cannot_be_written_is_a_config_error(volume: Object, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        files(volume)


def test_an_optional_missing_source_is_skipped_and_a_missing_token_refused() -> None:
    volume = {"name": "v", "projected": {"sources": [
        {"configMap": {"name": "absent", "optional": True}}]}}
    assert files(volume) == {}
    with pytest.raises(ConfigError, match="no service account token"):
        files(KUBE_API_ACCESS, token=None)


def test_downward_values_of_a_missing_label_are_empty() -> None:
    assert downward_value(POD, "metadata.labels['absent']") == ""
    assert downward_value({"metadata": {}}, "metadata.labels") == ""


def test_projected_sources_are_fetched_before_the_start() -> None:
    pod = {"spec": {"volumes": [KUBE_API_ACCESS, {"name": "s", "projected": {"sources": [
        {"secret": {"name": "creds"}}]}}], "containers": []}}
    assert referenced_objects(pod) == {("configmap", "kube-root-ca.crt"),
                                       ("secret", "creds")}


def tree(base: Path) -> dict[str, Any]:
    return {p.name: (os.readlink(p) if p.is_symlink() else "dir" if p.is_dir() else "file")
            for p in base.iterdir()}


def test_writes_go_through_the_data_symlink(tmp_path: Path) -> None:
    base = tmp_path / "vol"
    write_atomically(base, {"token": (b"one", 0o644), "sub/ca.crt": (b"PEM", 0o600)})
    first = os.readlink(base / DATA_DIR)
    assert first.startswith("..") and first != DATA_DIR
    assert tree(base) == {DATA_DIR: first, first: "dir", "token": "..data/token",
                          "sub": "..data/sub"}
    assert (base / "token").read_bytes() == b"one"
    assert (base / "sub" / "ca.crt").read_bytes() == b"PEM"
    assert stat.S_IMODE((base / first / "sub" / "ca.crt").stat().st_mode) == 0o600
    assert stat.S_IMODE(base.stat().st_mode) == 0o755


def test_a_rewrite_swaps_the_folder_and_drops_old_names(tmp_path: Path) -> None:
    base = tmp_path / "vol"
    write_atomically(base, {"token": (b"one", 0o644), "gone": (b"x", 0o644)})
    first = os.readlink(base / DATA_DIR)
    with open(base / "token", "rb") as held:  # a reader of the old token keeps it whole
        write_atomically(base, {"token": (b"two", 0o644)})
        assert held.read() == b"one"
    second = os.readlink(base / DATA_DIR)
    assert second != first
    assert tree(base) == {DATA_DIR: second, second: "dir", "token": "..data/token"}
    assert (base / "token").read_bytes() == b"two"
