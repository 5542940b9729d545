"""kubectl's changers against Schooner: `set`, `label`, `annotate`, `edit`, `diff`, `patch`
and `replace`, each checked by what kubectl prints and by the object the apiserver holds.

Deployments here run no replicas: what is proven is the API's side (the patches kubectl
computes and the server merges), and `test_kubectl_create.py` already runs pods.
"""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from apimachinery.client import Client
from cli.cluster.processes import wait_for
from tests.compat.conftest import ROOT_CA, Cluster, Kubectl
from tests.compat.settled import rollout_settled

pytestmark = [pytest.mark.integration, pytest.mark.e2e]

WEB_IMAGE = "schooner/web-example:1"
WEB_IMAGE_2 = "schooner/web-example:2"


def _deployment(kubectl: Kubectl, name: str = "web") -> None:
    kubectl("create", "deployment", name, f"--image={WEB_IMAGE}", "--replicas=0",
            "--port=8080")


def _container(client: Client, namespace: str, name: str = "web") -> dict[str, object]:
    deploy = client.get("deployments", name, namespace)
    container: dict[str, object] = deploy["spec"]["template"]["spec"]["containers"][0]
    return container


@pytest.mark.compat("kubectl set image")
def test_set_image(kubectl: Kubectl, cluster: Cluster, namespace: str) -> None:
    _deployment(kubectl)
    generation = cluster.client.get("deployments", "web", namespace)["metadata"]["generation"]
    assert kubectl("set", "image", "deployment/web", f"web-example={WEB_IMAGE_2}").stdout == \
        "deployment.apps/web image updated\n"
    deploy = cluster.client.get("deployments", "web", namespace)
    assert deploy["spec"]["template"]["spec"]["containers"][0]["image"] == WEB_IMAGE_2
    assert deploy["metadata"]["generation"] == generation + 1
    missing = kubectl("set", "image", "deployment/web", "nope=x", ok=False)
    assert missing.code == 1
    assert missing.stderr.strip() == 'error: unable to find container named "nope"'


@pytest.mark.compat("kubectl set env")
def test_set_env_add_remove_from_configmap_and_list(kubectl: Kubectl, cluster: Cluster,
                                                    namespace: str) -> None:
    _deployment(kubectl)
    kubectl("create", "configmap", "settings", "--from-literal=mode=fast",
            "--from-literal=level=3")
    assert kubectl("set", "env", "deployment/web", "K1=v1", "K2=v2").stdout == \
        "deployment.apps/web env updated\n"
    assert kubectl("set", "env", "deployment/web", "K1-").stdout == \
        "deployment.apps/web env updated\n"
    from_cm = kubectl("set", "env", "deployment/web", "--from=configmap/settings")
    assert from_cm.stdout == "deployment.apps/web env updated\n"
    assert "key mode transferred to MODE" in from_cm.stderr
    # kubectl walks the ConfigMap's keys in Go's map order, so the last two come either way.
    env = _container(cluster.client, namespace)["env"]
    assert isinstance(env, list) and env[0] == {"name": "K2", "value": "v2"}
    assert sorted(env[1:], key=lambda e: e["name"]) == [
        {"name": "LEVEL", "valueFrom": {"configMapKeyRef": {"key": "level",
                                                            "name": "settings"}}},
        {"name": "MODE", "valueFrom": {"configMapKeyRef": {"key": "mode",
                                                           "name": "settings"}}}]
    listed = kubectl("set", "env", "deployment/web", "--list").stdout.splitlines()
    assert listed[:2] == ["# Deployment web, container web-example", "K2=v2"]
    assert sorted(listed[2:]) == ["# LEVEL from configmap settings, key level",
                                  "# MODE from configmap settings, key mode"]
    kubectl("set", "env", "deployment/web", "K2-", "LEVEL-", "MODE-")
    assert "env" not in _container(cluster.client, namespace)


@pytest.mark.compat("kubectl set resources")
def test_set_resources_limits_and_requests(kubectl: Kubectl, cluster: Cluster,
                                           namespace: str) -> None:
    _deployment(kubectl)
    assert kubectl("set", "resources", "deployment/web", "--limits=cpu=200m,memory=128Mi",
                   "--requests=cpu=100m,memory=64Mi").stdout == \
        "deployment.apps/web resource requirements updated\n"
    assert _container(cluster.client, namespace)["resources"] == {
        "limits": {"cpu": "200m", "memory": "128Mi"},
        "requests": {"cpu": "100m", "memory": "64Mi"}}
    over = kubectl("set", "resources", "deployment/web", "--requests=cpu=1", ok=False)
    assert over.code == 1
    assert "spec.template.spec.containers[0].resources.requests" in over.stderr
    assert "must be less than or equal to cpu limit" in over.stderr


@pytest.mark.compat("kubectl set selector", "kubectl set serviceaccount",
                    "kubectl set subject")
def test_set_selector_and_serviceaccount(kubectl: Kubectl, cluster: Cluster,
                                         namespace: str) -> None:
    kubectl("create", "service", "clusterip", "front", "--tcp=80:8080")
    assert kubectl("set", "selector", "service", "front", "app=web,tier=edge").stdout == \
        "service/front selector updated\n"
    assert cluster.client.get("services", "front", namespace)["spec"]["selector"] == \
        {"app": "web", "tier": "edge"}
    _deployment(kubectl)
    assert kubectl("set", "serviceaccount", "deployment", "web", "robot").stdout == \
        "deployment.apps/web serviceaccount updated\n"
    spec = cluster.client.get("deployments", "web", namespace)["spec"]["template"]["spec"]
    assert spec["serviceAccountName"] == "robot"
    bad = kubectl("set", "serviceaccount", "deployment", "web", "Not_A_Name", ok=False)
    assert bad.code == 1
    assert "spec.template.spec.serviceAccountName: Invalid value" in bad.stderr
    kubectl("create", "rolebinding", "admins", "--clusterrole=view", "--user=bob")
    assert kubectl("set", "subject", "rolebinding", "admins", "--user=ann").stdout == \
        "rolebinding.rbac.authorization.k8s.io/admins subjects updated\n"
    subjects = cluster.client.get("rolebindings", "admins", namespace)["subjects"]
    assert [s["name"] for s in subjects] == ["bob", "ann"]


@pytest.mark.compat("kubectl label")
def test_label_add_overwrite_remove_selector_and_all(kubectl: Kubectl, cluster: Cluster,
                                                     namespace: str) -> None:
    for name in ("a", "b", "c"):
        kubectl("create", "configmap", name, f"--from-literal=k={name}")

    def labels(name: str) -> dict[str, str]:
        meta = cluster.client.get("configmaps", name, namespace)["metadata"]
        return dict(meta.get("labels") or {})

    assert kubectl("label", "configmap", "a", "env=prod").stdout == "configmap/a labeled\n"
    refused = kubectl("label", "configmap", "a", "env=dev", ok=False)
    assert refused.code == 1
    assert refused.stderr.strip() == \
        "error: 'env' already has a value (prod), and --overwrite is false"
    assert labels("a") == {"env": "prod"}
    assert kubectl("label", "configmap", "a", "env=dev", "--overwrite").stdout == \
        "configmap/a labeled\n"
    assert labels("a") == {"env": "dev"}
    assert kubectl("label", "configmap", "-l", "env=dev", "team=x").stdout == \
        "configmap/a labeled\n"
    assert kubectl("label", "configmap", "--all", "tier=1").stdout == \
        "configmap/a labeled\nconfigmap/b labeled\nconfigmap/c labeled\n" \
        f"configmap/{ROOT_CA} labeled\n"
    assert (labels("a"), labels("b")) == ({"env": "dev", "team": "x", "tier": "1"},
                                          {"tier": "1"})
    assert kubectl("label", "configmap", "b", "tier-").stdout == "configmap/b unlabeled\n"
    assert "labels" not in cluster.client.get("configmaps", "b", namespace)["metadata"]
    bad = kubectl("label", "configmap", "c", "bad key=x", ok=False)
    assert bad.code == 1
    assert bad.stderr.startswith('The ConfigMap "c" is invalid: metadata.labels: Invalid value: '
                                 '"bad key": name part must consist of alphanumeric characters')


@pytest.mark.compat("kubectl annotate")
def test_annotate_add_overwrite_remove_selector_and_all(kubectl: Kubectl, cluster: Cluster,
                                                        namespace: str) -> None:
    _deployment(kubectl, "one")
    _deployment(kubectl, "two")

    def notes(name: str) -> dict[str, str]:
        meta = cluster.client.get("deployments", name, namespace)["metadata"]
        return {k: v for k, v in (meta.get("annotations") or {}).items()
                if not k.startswith("deployment.kubernetes.io/")}

    assert kubectl("annotate", "deployment", "one", "owner=ops").stdout == \
        "deployment.apps/one annotated\n"
    refused = kubectl("annotate", "deployment", "one", "owner=dev", ok=False)
    assert refused.code == 1
    assert refused.stderr.strip() == ("error: --overwrite is false but found the following "
                                      "declared annotation(s): 'owner' already has a value "
                                      "(ops)")
    assert kubectl("annotate", "deployment", "one", "owner=dev", "--overwrite").stdout == \
        "deployment.apps/one annotated\n"
    assert notes("one") == {"owner": "dev"}
    assert kubectl("annotate", "deployment", "-l", "app=two", "note=hi").stdout == \
        "deployment.apps/two annotated\n"
    assert kubectl("annotate", "deployment", "--all", "audited=yes").stdout == \
        "deployment.apps/one annotated\ndeployment.apps/two annotated\n"
    assert kubectl("annotate", "deployment", "one", "owner-").stdout == \
        "deployment.apps/one annotated\n"
    assert (notes("one"), notes("two")) == ({"audited": "yes"},
                                            {"note": "hi", "audited": "yes"})


def _editor(tmp_path: Path, sed: str) -> dict[str, str]:
    """KUBE_EDITOR: a script that runs `sed` on the file and keeps a copy of what it saw."""
    script = tmp_path / "editor.sh"
    seen = tmp_path / "seen.log"
    script.write_text(f"#!/bin/sh\ncat \"$1\" >> {seen}\nsed -i {shlex.quote(sed)} \"$1\"\n")
    script.chmod(0o755)
    seen.write_text("")
    return {"KUBE_EDITOR": str(script), "TMPDIR": str(tmp_path)}


@pytest.mark.compat("kubectl edit")
def test_edit_saves_a_change_and_shows_a_refused_one(kubectl: Kubectl, cluster: Cluster,
                                                     namespace: str, tmp_path: Path) -> None:
    kubectl("create", "configmap", "conf", "--from-literal=mode=slow")
    env = _editor(tmp_path, "s/^  mode: slow$/  mode: fast/")
    assert kubectl("edit", "configmap", "conf", env=env).stdout == "configmap/conf edited\n"
    assert cluster.client.get("configmaps", "conf", namespace)["data"] == {"mode": "fast"}

    unchanged = kubectl("edit", "configmap", "conf", env=_editor(tmp_path, "s/x/x/"))
    assert unchanged.stderr.strip() == "Edit cancelled, no changes made."

    _deployment(kubectl)
    before = cluster.client.get("deployments", "web", namespace)
    env = _editor(tmp_path, "s/^  replicas: 0$/  replicas: -1/")
    refused = kubectl("edit", "deployment", "web", env=env, ok=False)
    assert refused.code == 1
    lines = refused.stderr.splitlines()
    assert lines[0] == 'error: deployments.apps "web" is invalid'
    assert lines[-1] == "error: Edit cancelled, no valid changes were saved."
    # kubectl reopened the file with the server's reasons at the top, as it does with a
    # person at the keyboard.
    seen = (tmp_path / "seen.log").read_text()
    assert '# deployments.apps "web" was not valid:\n' \
           "# * spec.replicas: Invalid value: -1: must be greater than or equal to 0\n" in seen
    after = cluster.client.get("deployments", "web", namespace)
    assert after["spec"] == before["spec"]
    assert after["metadata"]["generation"] == before["metadata"]["generation"]


def _configmap_file(tmp_path: Path, name: str, data: dict[str, str]) -> Path:
    path = tmp_path / f"{name}.yaml"
    lines = "".join(f"  {k}: {v!r}\n".replace("'", '"') for k, v in data.items())
    path.write_text(f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n"
                    f"data:\n{lines}")
    return path


@pytest.mark.compat("kubectl diff -f")
def test_diff_exits_0_without_change_and_1_with_one(kubectl: Kubectl, cluster: Cluster,
                                                    namespace: str, tmp_path: Path) -> None:
    kubectl("create", "configmap", "conf", "--from-literal=a=1", "--from-literal=b=2")
    stored = cluster.client.get("configmaps", "conf", namespace)
    same = kubectl("diff", "-f", str(_configmap_file(tmp_path, "conf", {"a": "1", "b": "2"})),
                   env={"TMPDIR": str(tmp_path)})
    assert (same.code, same.stdout) == (0, "")

    changed = kubectl("diff", "-f", str(_configmap_file(tmp_path, "conf",
                                                         {"a": "1", "b": "3"})),
                      ok=False, env={"TMPDIR": str(tmp_path)})
    assert changed.code == 1, changed.out
    removed = [line for line in changed.stdout.splitlines()
               if line.startswith(("-", "+")) and not line.startswith(("---", "+++"))]
    assert removed == ['-  b: "2"', '+  b: "3"']  # a ConfigMap has no generation to move

    new = kubectl("diff", "-f", str(_configmap_file(tmp_path, "fresh", {"k": "v"})),
                  ok=False, env={"TMPDIR": str(tmp_path)})
    assert new.code == 1 and "+  name: fresh" in new.stdout
    assert "resourceVersion" not in new.stdout  # a dry-run create stores nothing
    # Nothing was written: diff runs its patches and creates as server-side dry runs.
    assert cluster.client.get("configmaps", "conf", namespace) == stored
    names = [c["metadata"]["name"]
             for c in cluster.client.list("configmaps", namespace)["items"]]
    assert "fresh" not in names


@pytest.mark.compat("kubectl patch --type strategic", "kubectl patch --type merge",
                    "kubectl patch --type json")
def test_patch_strategic_merge_and_json(kubectl: Kubectl, cluster: Cluster,
                                        namespace: str) -> None:
    _deployment(kubectl)
    kubectl("set", "env", "deployment/web", "A=1", "B=2")
    strategic = ('{"spec":{"template":{"spec":{"containers":[{"name":"web-example",'
                 '"env":[{"$patch":"delete","name":"A"},{"name":"C","value":"3"}]},'
                 '{"name":"sidecar","image":"' + WEB_IMAGE + '"}]}}}}')
    assert kubectl("patch", "deployment", "web", "-p", strategic).stdout == \
        "deployment.apps/web patched\n"
    spec = cluster.client.get("deployments", "web", namespace)["spec"]["template"]["spec"]
    assert [c["name"] for c in spec["containers"]] == ["web-example", "sidecar"]
    assert spec["containers"][0]["env"] == [{"name": "B", "value": "2"},
                                            {"name": "C", "value": "3"}]
    assert spec["containers"][0]["image"] == WEB_IMAGE  # merged by name, not replaced
    assert kubectl("patch", "deployment", "web", "-p",
                   '{"spec":{"template":{"spec":{"containers":[{"name":"sidecar",'
                   '"$patch":"delete"}]}}}}').stdout == "deployment.apps/web patched\n"

    assert kubectl("patch", "deployment", "web", "--type=merge", "-p",
                   '{"spec":{"revisionHistoryLimit":3},'
                   '"metadata":{"labels":{"patched":"yes"}}}').stdout == \
        "deployment.apps/web patched\n"
    # kubectl says `(no change)` when the object it read beforehand comes back unchanged,
    # so no controller may write meanwhile.
    wait_for(lambda: rollout_settled(cluster.client, namespace, "web"), 60,
             "deployment web's rollout to settle")
    assert kubectl("patch", "deployment", "web", "--type=merge", "-p",
                   '{"spec":{"revisionHistoryLimit":3}}').stdout == \
        "deployment.apps/web patched (no change)\n"
    assert kubectl("patch", "deployment", "web", "--type=json", "-p",
                   '[{"op":"replace","path":"/spec/revisionHistoryLimit","value":5},'
                   '{"op":"remove","path":"/metadata/labels/patched"}]').stdout == \
        "deployment.apps/web patched\n"
    deploy = cluster.client.get("deployments", "web", namespace)
    assert deploy["spec"]["revisionHistoryLimit"] == 5
    assert [c["name"] for c in deploy["spec"]["template"]["spec"]["containers"]] == \
        ["web-example"]
    assert "patched" not in deploy["metadata"]["labels"]

    invalid = kubectl("patch", "deployment", "web", "-p", '{"spec":{"replicas":-3}}', ok=False)
    assert invalid.stderr.strip() == ('The Deployment "web" is invalid: spec.replicas: '
                                      "Invalid value: -3: must be greater than or equal to 0")
    two = kubectl("patch", "deployment", "web", "-p",
                  '{"spec":{"replicas":-3,"revisionHistoryLimit":-1}}', ok=False)
    assert two.stderr.splitlines() == [
        'The Deployment "web" is invalid: ',
        "* spec.replicas: Invalid value: -3: must be greater than or equal to 0",
        "* spec.revisionHistoryLimit: Invalid value: -1: must be greater than or equal to 0"]
    bad_path = kubectl("patch", "deployment", "web", "--type=json", "-p",
                       '[{"op":"replace","path":"/spec/nope/x","value":1}]', ok=False)
    assert bad_path.code == 1  # Kubernetes' 422 and message, then which operation and why
    assert bad_path.stderr.strip() == (
        "The request is invalid: the server rejected our request due to an error in our "
        "request: json patch operation 0 (replace /spec/nope/x) failed: member 'nope' not found")


@pytest.mark.compat("kubectl patch --subresource")
def test_patch_scale_and_status_subresources(kubectl: Kubectl, cluster: Cluster,
                                             namespace: str) -> None:
    _deployment(kubectl)
    assert kubectl("patch", "deployment", "web", "--subresource=scale", "--type=merge", "-p",
                   '{"spec":{"replicas":1}}').stdout == "scale.autoscaling/web patched\n"
    assert cluster.client.get("deployments", "web", namespace)["spec"]["replicas"] == 1
    assert kubectl("patch", "deployment", "web", "--subresource=scale", "--type=json", "-p",
                   '[{"op":"replace","path":"/spec/replicas","value":0}]').stdout == \
        "scale.autoscaling/web patched\n"
    assert cluster.client.get("deployments", "web", namespace)["spec"]["replicas"] == 0
    kubectl("create", "service", "loadbalancer", "lb", "--tcp=80:8080")
    assert kubectl("patch", "service", "lb", "--subresource=status", "--type=merge", "-p",
                   '{"status":{"loadBalancer":{"ingress":[{"ip":"192.0.2.10"}]}},'
                   '"spec":{"type":"ClusterIP"}}').stdout == "service/lb patched\n"
    svc = cluster.client.get("services", "lb", namespace)
    assert svc["status"]["loadBalancer"] == {"ingress": [{"ip": "192.0.2.10"}]}
    assert svc["spec"]["type"] == "LoadBalancer"  # the status subresource leaves spec alone
    row = kubectl("get", "service", "lb", "--no-headers").stdout.split()
    assert row[3] == "192.0.2.10"


@pytest.mark.compat("kubectl replace -f", "kubectl replace --force")
def test_replace_and_replace_force(kubectl: Kubectl, cluster: Cluster, namespace: str,
                                   tmp_path: Path) -> None:
    kubectl("create", "configmap", "conf", "--from-literal=a=1")
    live = tmp_path / "live.yaml"
    live.write_text(kubectl("get", "configmap", "conf", "-o", "yaml").stdout
                    .replace('a: "1"', 'a: "2"'))
    assert kubectl("replace", "-f", str(live)).stdout == "configmap/conf replaced\n"
    replaced = cluster.client.get("configmaps", "conf", namespace)
    assert replaced["data"] == {"a": "2"}
    stale = kubectl("replace", "-f", str(live), ok=False)  # its resourceVersion is old now
    assert stale.code == 1
    assert stale.stderr.strip() == (
        f'Error from server (Conflict): error when replacing "{live}": Operation cannot be '
        'fulfilled on configmaps "conf": the object has been modified; please apply your '
        "changes to the latest version and try again")

    forced = kubectl("replace", "--force", "-f", str(live))
    assert forced.stdout == 'configmap "conf" deleted\nconfigmap/conf replaced\n'
    again = cluster.client.get("configmaps", "conf", namespace)
    assert again["data"] == {"a": "2"}
    assert again["metadata"]["uid"] != replaced["metadata"]["uid"]  # deleted, made anew
