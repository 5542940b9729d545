"""Projected and downwardAPI volumes are validated, and what the agent cannot write is
refused with a 422 naming the field (never stored and ignored)."""

from __future__ import annotations

from typing import Any

import pytest

from apiserver.kinds.core.podtemplate import default_pod_spec, validate_pod_spec
from apiserver.main import parse_args


def text(volume: dict[str, Any]) -> str:
    spec = {"containers": [{"name": "c", "image": "x"}], "volumes": [volume]}
    return " | ".join(str(e) for e in validate_pod_spec(spec, "spec"))


def projected(*sources: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"name": "v", "projected": {"sources": list(sources), **extra}}


def test_the_service_account_volume_is_valid() -> None:
    volume = projected(
        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token",
                                 "audience": "vault"}},
        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt",
                                                             "path": "ca.crt"}]}},
        {"secret": {"name": "s"}},
        {"downwardAPI": {"items": [
            {"path": "ns", "fieldRef": {"fieldPath": "metadata.namespace"}},
            {"path": "app", "fieldRef": {"fieldPath": "metadata.labels['app']"}}]}},
        defaultMode=0o644)
    assert text(volume) == ""


@pytest.mark.parametrize("volume,expected", [
    (projected({"serviceAccountToken": {"expirationSeconds": 599, "path": "t"}}),
     "spec.volumes[0].projected.sources[0].serviceAccountToken.expirationSeconds: "
     "Invalid value: 599: may not specify a duration less than 10 minutes"),
    (projected({"serviceAccountToken": {"expirationSeconds": 2**32 + 1, "path": "t"}}),
     "may not specify a duration larger than 2^32 seconds"),
    (projected({"serviceAccountToken": {}}),
     "spec.volumes[0].projected.sources[0].serviceAccountToken.path: Required value"),
    (projected({"configMap": {"name": "a"}, "secret": {"name": "b"}}),
     "spec.volumes[0].projected.sources[0]: Forbidden: may not specify more than 1 "
     "volume type per source"),
    (projected({}), "spec.volumes[0].projected.sources[0]: Required value"),
    (projected({"clusterTrustBundle": {"name": "b", "path": "p"}}),
     "spec.volumes[0].projected.sources[0].clusterTrustBundle: Forbidden: "
     "clusterTrustBundle projections is not supported by Schooner's agent"),
    (projected({"downwardAPI": {"items": [{"path": "cpu", "resourceFieldRef": {
        "containerName": "c", "resource": "limits.cpu"}}]}}),
     "spec.volumes[0].projected.sources[0].downwardAPI.items[0].resourceFieldRef: Forbidden"),
    (projected({"downwardAPI": {"items": [{"path": "ip", "fieldRef": {
        "fieldPath": "status.podIP"}}]}}),
     "spec.volumes[0].projected.sources[0].downwardAPI.items[0].fieldRef.fieldPath: "
     'Unsupported value: "status.podIP"'),
    (projected({"secret": {"name": "s", "items": [{"key": "k", "path": "../x"}]}}),
     "spec.volumes[0].projected.sources[0].secret.items[0].path: Invalid value: \"../x\": "
     "must not contain '..'"),
    (projected({"secret": {"name": "s", "items": [{"key": "k", "path": "/abs"}]}}),
     "must be a relative path"),
    (projected({"configMap": {"name": "a", "items": [{"key": "k", "path": "same"}]}},
               {"serviceAccountToken": {"path": "same"}}),
     "spec.volumes[0].projected.sources[1].serviceAccountToken.path: Invalid value: "
     '"same": conflicting duplicate paths'),
    (projected({"configMap": {}}),
     "spec.volumes[0].projected.sources[0].configMap.name: Required value"),
    (projected(defaultMode=0o1000), "spec.volumes[0].projected.defaultMode: Invalid value"),
    ({"name": "v", "downwardAPI": {"items": [{"path": "x", "fieldRef": {
        "fieldPath": "spec.nodeName"}}]}},
     "spec.volumes[0].downwardAPI.items[0].fieldRef.fieldPath: Unsupported value"),
])
def test_refusals_name_the_field(volume: dict[str, Any], expected: str) -> None:
    assert expected in text(volume)


def test_defaults_fill_mode_lifetime_and_field_api_version() -> None:
    spec: dict[str, Any] = {"containers": [], "volumes": [
        projected({"serviceAccountToken": {"path": "t"}},
                  {"downwardAPI": {"items": [{"path": "n", "fieldRef": {
                      "fieldPath": "metadata.name"}}]}}),
        {"name": "d", "downwardAPI": {"items": [{"path": "n", "fieldRef": {
            "fieldPath": "metadata.name"}}]}}]}
    default_pod_spec(spec)
    first, second = spec["volumes"]
    assert first["projected"]["defaultMode"] == 0o644
    assert first["projected"]["sources"][0]["serviceAccountToken"]["expirationSeconds"] == 3600
    assert first["projected"]["sources"][1]["downwardAPI"]["items"][0]["fieldRef"][
        "apiVersion"] == "v1"
    assert second["downwardAPI"]["defaultMode"] == 0o644
    assert second["downwardAPI"]["items"][0]["fieldRef"]["apiVersion"] == "v1"


def test_only_known_admission_plugins_may_be_disabled(capsys: pytest.CaptureFixture[str]) -> None:
    base = ["--etcd-servers", "http://x"]
    assert parse_args([*base, "--disable-admission-plugins", "ServiceAccount"]
                      ).disable_admission_plugins == ["ServiceAccount"]
    with pytest.raises(SystemExit):
        parse_args([*base, "--disable-admission-plugins", "PodSecurity"])
    assert "unknown admission plugin(s) PodSecurity" in capsys.readouterr().err
