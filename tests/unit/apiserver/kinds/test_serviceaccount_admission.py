"""ServiceAccount admission: the default account, the 403 for a missing one, and the
kube-api-access projected volume (or none, when automount is off on the pod or the SA)."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest

from apimachinery import errors
from apiserver.config import ServerConfig
from apiserver.kinds import registry
from apiserver.kinds.core.pod import serviceaccount as admission
from apiserver.kinds.core.pod.serviceaccount import (
    TOKEN_MOUNT_PATH,
    admit_service_account,
    mount_token,
    remember_service_account_admission,
    token_volume,
)
from apiserver.kinds.core.podtemplate import default_pod_spec, validate_pod_spec

PODS = registry().by_plural("pods").resource
DEPLOYMENTS = registry().by_plural("deployments").resource


class FakeRegistry:
    """The ServiceAccounts stored, by (namespace, name); counts the reads."""

    def __init__(self, *accounts: dict[str, Any]) -> None:
        self.accounts = {(a["metadata"]["namespace"], a["metadata"]["name"]): a
                         for a in accounts}
        self.reads = 0

    async def get(self, resource: Any, namespace: str, name: str) -> dict[str, Any]:
        assert resource.plural == "serviceaccounts"
        self.reads += 1
        if (namespace, name) not in self.accounts:
            raise errors.not_found("serviceaccounts", name)
        return self.accounts[(namespace, name)]


def account(name: str = "default", **extra: Any) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": "ns"}, **extra}


def pod(**spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": "web", "namespace": "ns"}, "spec": {
        "containers": [{"name": "app", "image": "x"}],
        "initContainers": [{"name": "init", "image": "x"}], **spec}}


def admit(reg: Any, obj: dict[str, Any], old: dict[str, Any] | None = None,
          resource: Any = PODS) -> dict[str, Any]:
    asyncio.run(admit_service_account(reg, resource, "ns", obj, old))
    return obj


@pytest.fixture(autouse=True)
def no_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(admission, "_RETRY_SECONDS", (0.0, 0.0))


def test_a_pod_runs_as_default_and_mounts_its_token_everywhere() -> None:
    spec = admit(FakeRegistry(account()), pod())["spec"]
    assert (spec["serviceAccountName"], spec["serviceAccount"]) == ("default", "default")
    [volume] = spec["volumes"]
    name = volume["name"]
    assert name.startswith("kube-api-access-") and len(name) == len("kube-api-access-") + 5
    assert all(c in "bcdfghjklmnpqrstvwxz2456789" for c in name[-5:])
    assert volume == token_volume(name)
    sources = volume["projected"]["sources"]
    assert sources[0] == {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}}
    assert sources[1]["configMap"]["name"] == "kube-root-ca.crt"
    assert sources[2]["downwardAPI"]["items"][0]["fieldRef"]["fieldPath"] == \
        "metadata.namespace"
    mount = {"name": name, "readOnly": True, "mountPath": TOKEN_MOUNT_PATH}
    assert spec["containers"][0]["volumeMounts"] == [mount]
    assert spec["initContainers"][0]["volumeMounts"] == [mount]
    assert validate_pod_spec(spec, "spec") == []


def test_the_deprecated_alias_names_the_account() -> None:
    reg = FakeRegistry(account("robot"))
    spec = admit(reg, pod(serviceAccount="robot"))["spec"]
    assert (spec["serviceAccountName"], spec["serviceAccount"]) == ("robot", "robot")
    defaulted: dict[str, Any] = {"serviceAccount": "robot", "containers": []}
    default_pod_spec(defaulted)
    assert defaulted["serviceAccountName"] == "robot"


def test_a_missing_account_is_refused_after_retries_for_default_only() -> None:
    reg = FakeRegistry()
    with pytest.raises(errors.Forbidden) as caught:
        admit(reg, pod(serviceAccountName="robot"))
    assert str(caught.value) == ('pods "web" is forbidden: error looking up service account '
                                 'ns/robot: serviceaccount "robot" not found')
    assert reg.reads == 1
    with pytest.raises(errors.Forbidden, match='ns/default: serviceaccount "default"'):
        admit(reg, pod())
    assert reg.reads == 1 + 10


def test_automount_false_on_the_pod_mounts_nothing() -> None:
    spec = admit(FakeRegistry(account()), pod(automountServiceAccountToken=False))["spec"]
    assert "volumes" not in spec and "volumeMounts" not in spec["containers"][0]
    assert spec["serviceAccountName"] == "default"


def test_automount_false_on_the_account_unless_the_pod_says_true() -> None:
    reg = FakeRegistry(account(automountServiceAccountToken=False))
    assert "volumes" not in admit(reg, pod())["spec"]
    assert len(admit(reg, pod(automountServiceAccountToken=True))["spec"]["volumes"]) == 1


def test_a_container_mounting_the_path_already_keeps_its_own() -> None:
    own = {"name": "mine", "mountPath": TOKEN_MOUNT_PATH}
    obj = pod(volumes=[{"name": "mine", "emptyDir": {}}])
    obj["spec"]["containers"][0]["volumeMounts"] = [own]
    spec = admit(FakeRegistry(account()), obj)["spec"]
    assert spec["containers"][0]["volumeMounts"] == [own]
    assert spec["initContainers"][0]["volumeMounts"][0]["mountPath"] == TOKEN_MOUNT_PATH
    assert len(spec["volumes"]) == 2
    only_own: dict[str, Any] = {"containers": [{"name": "a", "volumeMounts": [own]}]}
    assert mount_token(only_own, random.Random(1)) is None and "volumes" not in only_own


def test_updates_other_kinds_and_a_disabled_plugin_are_left_alone() -> None:
    reg = FakeRegistry()
    assert "serviceAccountName" not in admit(reg, pod(), old=pod())["spec"]
    deployment: dict[str, Any] = {"metadata": {"name": "d"}, "spec": {}}
    assert admit(reg, deployment, resource=DEPLOYMENTS) == {"metadata": {"name": "d"},
                                                           "spec": {}}
    config = ServerConfig(etcd_servers=[], disable_admission_plugins=["ServiceAccount"])
    asyncio.run(remember_service_account_admission(reg, config))  # type: ignore[arg-type]
    assert "volumes" not in admit(reg, pod())["spec"] and reg.reads == 0
