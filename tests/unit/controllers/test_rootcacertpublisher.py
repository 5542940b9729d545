"""root-ca-cert-publisher: every active namespace holds kube-root-ca.crt with the CA."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from apimachinery.kubeconfig import write_kubeconfig
from controllers.main import enabled_controllers, parse_args, root_ca_pem
from controllers.rootcacertpublisher import (
    CONFIGMAP,
    DESCRIPTION_ANNOTATION,
    RootCACertPublisher,
)
from tests.unit.controllers.controller_fakes import FakeClient, obj, run, started

CA = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"


def build(client: FakeClient, factory: object, clock: object) -> RootCACertPublisher:
    return RootCACertPublisher(client, factory, ca_pem=CA)  # type: ignore[arg-type]


def namespace(name: str, **status: str) -> dict[str, object]:
    return obj("namespaces", name, status=status or {"phase": "Active"})


def test_a_namespace_without_it_gets_it() -> None:
    client = FakeClient([namespace("team")])

    async def scenario() -> None:
        async with started(client, build) as (ctrl, _):
            await ctrl.reconcile("team")
    run(scenario)
    [(verb, plural, name, made)] = client.writes()
    assert (verb, plural, name) == ("create", "configmaps", CONFIGMAP)
    assert made["metadata"]["namespace"] == "team" and made["data"] == {"ca.crt": CA}
    assert DESCRIPTION_ANNOTATION in made["metadata"]["annotations"]


def test_a_changed_one_is_put_back_and_a_right_one_left_alone() -> None:
    changed = obj("configmaps", CONFIGMAP, "team", data={"ca.crt": "forged", "extra": "x"})
    right = obj("configmaps", CONFIGMAP, "ok", data={"ca.crt": CA})
    client = FakeClient([namespace("team"), namespace("ok"), changed, right])

    async def scenario() -> None:
        async with started(client, build) as (ctrl, _):
            await ctrl.reconcile("team")
            await ctrl.reconcile("ok")
    run(scenario)
    [(verb, _, _, fixed)] = client.writes()
    assert verb == "update" and fixed["data"] == {"ca.crt": CA}
    assert fixed["metadata"]["resourceVersion"] == "1"  # an update of what was seen


def test_terminating_or_absent_namespaces_get_nothing() -> None:
    client = FakeClient([namespace("going", phase="Terminating")])

    async def scenario() -> None:
        async with started(client, build) as (ctrl, _):
            await ctrl.reconcile("going")
            await ctrl.reconcile("absent")
    run(scenario)
    assert client.writes() == []


def test_deleting_or_changing_it_enqueues_its_namespace() -> None:
    client = FakeClient([namespace("team")])
    other = obj("configmaps", "settings", "team")
    mine = obj("configmaps", CONFIGMAP, "team", data={"ca.crt": CA})

    async def scenario() -> None:
        async with started(client, build) as (ctrl, _):
            while len(ctrl.queue):
                key = await ctrl.queue.get()
                ctrl.queue.done(key)
            ctrl._configmap(other)
            assert len(ctrl.queue) == 0
            ctrl._configmap(mine)
            assert await ctrl.queue.get() == "team"
            ctrl.queue.done("team")
    run(scenario)


def test_the_ca_comes_from_the_flag_or_the_kubeconfig_and_never_a_key(tmp_path: Path) -> None:
    ca_file = tmp_path / "ca.crt"
    ca_file.write_text(CA)
    assert root_ca_pem(parse_args(["--root-ca-file", str(ca_file)])) == CA
    kubeconfig = tmp_path / "kc"
    write_kubeconfig(str(kubeconfig), "https://127.0.0.1:6443", CA.encode(), "t")
    assert root_ca_pem(parse_args(["--kubeconfig", str(kubeconfig)])) == CA
    key = tmp_path / "ca.key"
    key.write_text("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    with pytest.raises(ValueError, match="private key"):
        root_ca_pem(parse_args(["--root-ca-file", str(key)]))


def test_without_a_ca_the_publisher_is_not_enabled() -> None:
    args = argparse.Namespace(allocate_node_cidrs=False, root_ca_pem="",
                              cluster_signing_cert_file="", cluster_signing_key_file="")
    assert enabled_controllers(["namespace", "root-ca-cert-publisher"], args) == ["namespace"]
    args.root_ca_pem = CA
    assert enabled_controllers(["root-ca-cert-publisher"], args) == ["root-ca-cert-publisher"]
