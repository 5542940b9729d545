"""`--dry-run=server` on every kubectl command that writes: kubectl prints what it would
have done, the apiserver runs the whole request (defaulting, validation, allocation)
and stores nothing.

Each test takes a snapshot of the namespace's objects (name -> resourceVersion) before
the dry runs and compares it after: a dry run that wrote anything, even a no-op,
shows up there.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from apimachinery import errors
from apimachinery.client import Client
from cli.cluster.processes import wait_for
from tests.compat.conftest import IMAGE, ROOT_CA, Cluster, Kubectl
from tests.compat.settled import rollout_settled

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

WEB_IMAGE = "schooner/web-example:1"
SNAPSHOT_KINDS = ("configmaps", "secrets", "services", "deployments", "replicasets")
DRY = "--dry-run=server"


def _snapshot(client: Client, namespace: str) -> dict[tuple[str, str], str]:
    return {(kind, o["metadata"]["name"]): o["metadata"]["resourceVersion"]
            for kind in SNAPSHOT_KINDS for o in client.list(kind, namespace)["items"]}


def _settled_deployment(kubectl: Kubectl, cluster: Cluster, namespace: str) -> None:
    """A Deployment of no replicas whose controllers have written their last status: the
    rollout complete (Progressing: NewReplicaSetAvailable), its ReplicaSet observed."""
    kubectl("create", "deployment", "web", f"--image={WEB_IMAGE}", "--replicas=0",
            "--port=8080")
    wait_for(lambda: rollout_settled(cluster.client, namespace, "web"), 60,
             "deployment web's rollout to settle")


@pytest.mark.compat("kubectl create --dry-run=server")
def test_create_generators_and_files_store_nothing(kubectl: Kubectl, cluster: Cluster,
                                                   namespace: str, tmp_path: Path) -> None:
    kubectl("create", "service", "nodeport", "taken", "--tcp=80", "--node-port=32211")
    before = _snapshot(cluster.client, namespace)
    ns = f"c-dry-{uuid.uuid4().hex[:8]}"
    assert kubectl("create", "namespace", ns, DRY, namespaced=False).stdout == \
        f"namespace/{ns} created (server dry run)\n"
    outputs = [
        kubectl("create", "configmap", "cm", "--from-literal=a=1", DRY).stdout,
        kubectl("create", "secret", "generic", "sec", "--from-literal=a=1", DRY).stdout,
        kubectl("create", "deployment", "dep", f"--image={WEB_IMAGE}", DRY).stdout,
        kubectl("create", "service", "clusterip", "svc", "--tcp=80", DRY).stdout,
    ]
    assert outputs == ["configmap/cm created (server dry run)\n",
                       "secret/sec created (server dry run)\n",
                       "deployment.apps/dep created (server dry run)\n",
                       "service/svc created (server dry run)\n"]
    pc = f"c-dry-{uuid.uuid4().hex[:8]}"
    assert kubectl("create", "priorityclass", pc, "--value=7", DRY,
                   namespaced=False).stdout == \
        f"priorityclass.scheduling.k8s.io/{pc} created (server dry run)\n"
    manifest = tmp_path / "cm.yaml"
    manifest.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: filed}\n"
                        "data: {k: v}\n")
    assert kubectl("create", "-f", str(manifest), DRY).stdout == \
        "configmap/filed created (server dry run)\n"

    # The answer is the object the server would have stored: defaulted, with a uid,
    # an allocated NodePort, and no resourceVersion.
    shown = json.loads(kubectl("create", "service", "nodeport", "np", "--tcp=80",
                               "--node-port=32212", DRY, "-o", "json").stdout)
    assert shown["spec"]["ports"][0]["nodePort"] == 32212 and shown["spec"]["clusterIP"]
    assert shown["metadata"]["uid"] and "resourceVersion" not in shown["metadata"]
    # Validation and allocation still refuse what a real create would refuse.
    bad = kubectl("create", "configmap", "Bad_", "--from-literal=a=1", DRY, ok=False)
    assert bad.code == 1 and 'ConfigMap "Bad_" is invalid: metadata.name' in bad.stderr
    clash = kubectl("create", "service", "nodeport", "np2", "--tcp=80", "--node-port=32211",
                    DRY, ok=False)
    assert clash.code == 1 and "provided port is already allocated" in clash.stderr

    assert _snapshot(cluster.client, namespace) == before
    for resource, name in (("namespaces", ns), ("priorityclasses", pc)):
        with pytest.raises(errors.NotFound):
            cluster.client.get(resource, name)
    # The dry run reserved nothing: the port it showed is free for a real create.
    kubectl("create", "service", "nodeport", "np", "--tcp=80", "--node-port=32212")


@pytest.mark.compat("kubectl apply --dry-run=server", "kubectl replace --dry-run=server",
                    "kubectl patch --dry-run=server")
def test_apply_replace_and_patch_store_nothing(kubectl: Kubectl, cluster: Cluster,
                                               namespace: str, tmp_path: Path) -> None:
    kubectl("create", "configmap", "conf", "--from-literal=a=1")
    live = tmp_path / "live.yaml"
    live.write_text(kubectl("get", "configmap", "conf", "-o", "yaml").stdout
                    .replace('a: "1"', 'a: "2"'))
    fresh = tmp_path / "fresh.yaml"
    fresh.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fresh}\n"
                     "data: {k: v}\n")
    before = _snapshot(cluster.client, namespace)

    applied = kubectl("apply", "-f", str(live), DRY)
    assert applied.stdout == "configmap/conf configured (server dry run)\n"
    assert kubectl("apply", "-f", str(fresh), DRY).stdout == \
        "configmap/fresh created (server dry run)\n"
    assert kubectl("replace", "-f", str(live), DRY).stdout == \
        "configmap/conf replaced (server dry run)\n"
    # kubectl 1.32's patch names its operation after the dry-run suffix is set, so it
    # prints plain `patched` against Kubernetes too.
    patched = kubectl("patch", "configmap", "conf", "-p", '{"data":{"b":"3"}}', DRY,
                      "-o", "jsonpath={.data}")
    assert json.loads(patched.stdout) == {"a": "1", "b": "3"}
    assert kubectl("patch", "configmap", "conf", "-p", '{"data":{"b":"3"}}', DRY).stdout == \
        "configmap/conf patched\n"
    invalid = kubectl("patch", "configmap", "conf", "--type=merge", "-p",
                      '{"data":{"bad key":"x"}}', DRY, ok=False)
    assert invalid.code == 1 and "data[bad key]" in invalid.stderr

    assert _snapshot(cluster.client, namespace) == before
    assert cluster.client.get("configmaps", "conf", namespace)["data"] == {"a": "1"}


@pytest.mark.compat("kubectl label --dry-run=server", "kubectl annotate --dry-run=server",
                    "kubectl set --dry-run=server")
def test_label_annotate_and_set_store_nothing(kubectl: Kubectl, cluster: Cluster,
                                              namespace: str) -> None:
    _settled_deployment(kubectl, cluster, namespace)
    before = _snapshot(cluster.client, namespace)
    stored = cluster.client.get("deployments", "web", namespace)
    outputs = [
        kubectl("label", "deployment", "web", "tier=1", DRY).stdout,
        kubectl("label", "deployment", "web", "app-", DRY).stdout,
        kubectl("annotate", "deployment", "web", "note=x", DRY).stdout,
        kubectl("set", "image", "deployment/web", "web-example=schooner/web-example:2",
                DRY).stdout,
        kubectl("set", "env", "deployment/web", "A=1", DRY).stdout,
        kubectl("set", "resources", "deployment/web", "--limits=cpu=1", DRY).stdout,
    ]
    assert outputs == [
        "deployment.apps/web labeled (server dry run)\n",
        "deployment.apps/web unlabeled (server dry run)\n",
        "deployment.apps/web annotated (server dry run)\n",
        "deployment.apps/web image updated (server dry run)\n",
        "deployment.apps/web env updated (server dry run)\n",
        "deployment.apps/web resource requirements updated (server dry run)\n"]
    shown = json.loads(kubectl("set", "image", "deployment/web",
                               "web-example=schooner/web-example:2", DRY, "-o",
                               "json").stdout)
    assert shown["spec"]["template"]["spec"]["containers"][0]["image"] == \
        "schooner/web-example:2"
    assert shown["metadata"]["generation"] == 2  # what the update would have made
    assert _snapshot(cluster.client, namespace) == before
    assert cluster.client.get("deployments", "web", namespace) == stored


@pytest.mark.compat("kubectl expose --dry-run=server", "kubectl run --dry-run=server")
def test_expose_and_run_store_nothing(kubectl: Kubectl, cluster: Cluster,
                                      namespace: str) -> None:
    _settled_deployment(kubectl, cluster, namespace)
    before = _snapshot(cluster.client, namespace)
    assert kubectl("expose", "deployment", "web", "--port=80", "--name=web-svc",
                   DRY).stdout == "service/web-svc exposed (server dry run)\n"
    assert kubectl("run", "dry", f"--image={IMAGE}", "--image-pull-policy=IfNotPresent",
                   "--restart=Never", DRY).stdout == "pod/dry created (server dry run)\n"
    assert _snapshot(cluster.client, namespace) == before
    assert cluster.client.list("pods", namespace)["items"] == []


@pytest.mark.compat("kubectl delete --dry-run=server")
def test_delete_deletes_nothing(kubectl: Kubectl, cluster: Cluster, namespace: str) -> None:
    _settled_deployment(kubectl, cluster, namespace)
    kubectl("create", "configmap", "one", "--from-literal=a=1")
    kubectl("create", "configmap", "two", "--from-literal=a=2")
    kubectl("run", "solo", f"--image={IMAGE}", "--image-pull-policy=IfNotPresent",
            "--restart=Never", "--command", "--", "sleep", "3600")
    wait_for(lambda: (cluster.client.get("pods", "solo", namespace).get("status") or {})
             .get("phase") == "Running", 90, "pod solo Running")
    before = _snapshot(cluster.client, namespace)

    assert kubectl("delete", "configmap", "one", DRY).stdout == \
        'configmap "one" deleted (server dry run)\n'
    assert kubectl("delete", "configmap", "--all", DRY).stdout.splitlines() == \
        [f'configmap "{ROOT_CA}" deleted (server dry run)',
         'configmap "one" deleted (server dry run)', 'configmap "two" deleted (server dry run)']
    assert kubectl("delete", "deployment", "web", DRY).stdout == \
        'deployment.apps "web" deleted (server dry run)\n'
    assert kubectl("delete", "pod", "solo", DRY).stdout == \
        'pod "solo" deleted (server dry run)\n'
    assert kubectl("delete", "namespace", namespace, DRY, namespaced=False).stdout == \
        f'namespace "{namespace}" deleted (server dry run)\n'

    assert _snapshot(cluster.client, namespace) == before
    pod = cluster.client.get("pods", "solo", namespace)
    assert "deletionTimestamp" not in pod["metadata"]
    assert cluster.client.get("namespaces", namespace)["status"]["phase"] == "Active"
