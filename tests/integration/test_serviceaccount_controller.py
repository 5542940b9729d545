"""The serviceaccount controller in a real controller-manager: a `default` ServiceAccount in
every namespace, made again when deleted."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from apimachinery import errors
from apimachinery.client import Client
from cli.cluster.processes import Apiserver, start_controller_manager, wait_for

pytestmark = pytest.mark.integration


def _has_default(client: Client, namespace: str) -> bool:
    try:
        client.get("serviceaccounts", "default", namespace=namespace)
    except errors.NotFound:
        return False
    return True


def test_every_namespace_gets_a_default_service_account(apiserver: Apiserver,
                                                        tmp_path: Path) -> None:
    kubeconfig = apiserver.component_kubeconfig(tmp_path / "kc", "controller-manager")
    proc = start_controller_manager(kubeconfig, tmp_path / "cm.log",
                                    "--controllers", "serviceaccount")
    name = f"sa-{uuid.uuid4().hex[:8]}"
    try:
        with apiserver.client() as client:
            wait_for(lambda: _has_default(client, "default"), 10, "default/default")
            client.create("namespaces", {"metadata": {"name": name}})
            wait_for(lambda: _has_default(client, name), 10, f"{name}/default")
            first = client.get("serviceaccounts", "default", namespace=name)
            client.delete("serviceaccounts", "default", namespace=name)
            wait_for(lambda: _has_default(client, name), 10, f"{name}/default made again")
            again = client.get("serviceaccounts", "default", namespace=name)
            assert again["metadata"]["uid"] != first["metadata"]["uid"]
            client.delete("namespaces", name)
    finally:
        proc.stop()
