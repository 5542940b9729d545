"""`cli.main`: the error boundary and the verbs, through typer's CliRunner and a fake client.

Every failure must be exactly one `error: ...` line on stderr with exit code 1,
and never a traceback. The client is injected by replacing
`cli.main.client_factory`, so no apiserver is needed.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from apimachinery import errors
from apimachinery.client import WatchEvent
from apimachinery.kubeconfig import KubeconfigError
from apimachinery.resources import RESOURCES, ResourceInfo, resolve
from cli import commands, main

Key = tuple[str, str | None, str]


class FakeClient:
    """An in-memory apiserver of sorts: objects by (plural, namespace, name), calls recorded."""

    namespace = "default"

    def __init__(self, *objects: dict[str, Any], fail: Exception | None = None) -> None:
        self.store: dict[Key, dict[str, Any]] = {}
        self.calls: list[tuple[Any, ...]] = []
        self.fail = fail
        self.closed = False
        for obj in objects:
            res = resolve(obj["kind"])
            self.store[self._key(res, obj["metadata"]["name"],
                                 obj["metadata"].get("namespace"))] = obj

    def resolve(self, name: str) -> ResourceInfo:
        """Names the built-in table knows; a server would be asked for others (none here)."""
        return resolve(name)

    @staticmethod
    def _key(res: ResourceInfo, name: str, namespace: str | None) -> Key:
        return (res.plural, namespace if res.namespaced else None, name)

    def _enter(self, *call: Any) -> None:
        self.calls.append(call)
        if self.fail is not None:
            raise self.fail

    def get(self, resource: ResourceInfo, name: str, namespace: str | None = None) -> Any:
        self._enter("get", resource.plural, name, namespace)
        try:
            return copy.deepcopy(self.store[self._key(resource, name, namespace)])
        except KeyError:
            raise errors.not_found(resource.group_resource, name) from None

    def list_all(self, resource: ResourceInfo, namespace: str | None = None,
                 **kw: Any) -> tuple[list[Any], str]:
        self._enter("list", resource.plural, namespace, kw)
        return [copy.deepcopy(o) for (plural, ns, _), o in self.store.items()
                if plural == resource.plural and namespace in (None, ns)], "42"

    def create(self, resource: ResourceInfo, obj: dict[str, Any],
               namespace: str | None = None) -> Any:
        self._enter("create", resource.plural, namespace)
        if namespace == "nope":
            raise errors.not_found("namespaces", "nope")
        self.store[self._key(resource, obj["metadata"]["name"], namespace)] = obj
        return obj

    def patch(self, resource: ResourceInfo, name: str, patch: Any, namespace: str | None = None,
              **kw: Any) -> Any:
        self._enter("patch", resource.plural, name, namespace, patch, kw)
        return {}

    def delete(self, resource: ResourceInfo, name: str, namespace: str | None = None,
               **kw: Any) -> Any:
        self._enter("delete", resource.plural, name, namespace, kw)
        obj = self.store.pop(self._key(resource, name, namespace), None)
        if obj is None:
            raise errors.not_found(resource.group_resource, name)
        return obj

    def watch(self, resource: ResourceInfo, namespace: str | None = None,
              **kw: Any) -> Iterator[WatchEvent]:
        self._enter("watch", resource.plural, namespace, kw)
        yield WatchEvent("MODIFIED", pod("later"))

    def request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        self._enter("request", method, path)
        if path == "/version":
            return httpx.Response(200, json={"gitVersion": "v0.1.0-test"})
        if path == "/apis":
            return httpx.Response(200, json={"groups": [
                {"name": "apps", "preferredVersion": {"groupVersion": "apps/v1"}}]})
        gv = path.removeprefix("/api/").removeprefix("/apis/")
        return httpx.Response(200, json={"groupVersion": gv, "resources": [
            {"name": r.plural, "namespaced": r.namespaced, "kind": r.kind,
             "shortNames": list(r.short_names), "verbs": list(r.verbs)}
            for r in RESOURCES if r.api_version == gv] + [{"name": "pods/status"}]})

    def close(self) -> None:
        self.closed = True


def pod(name: str = "web", namespace: str = "default") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "uid": f"uid-{name}",
                         "creationTimestamp": "2026-01-01T00:00:00Z"},
            "spec": {"containers": [{"name": "c", "image": "busybox"}]}}


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> FakeClient:
    fake = FakeClient(pod())
    monkeypatch.setattr(main, "client_factory", lambda path, context: fake)
    return fake


def run(*args: str, input: str | None = None) -> Any:
    return CliRunner().invoke(main.app, list(args), input=input)


def assert_one_error_line(result: Any, expected: str) -> None:
    assert result.exit_code == 1, result.output
    assert result.stderr == f"error: {expected}\n"
    assert "Traceback" not in result.output


def test_api_error_is_one_line(client: FakeClient) -> None:
    assert_one_error_line(run("get", "pods", "nothere"), 'pods "nothere" not found')


def test_unreachable_adds_the_hint(client: FakeClient) -> None:
    client.fail = errors.Unreachable("cannot reach the apiserver at https://127.0.0.1:1: "
                                     "connection refused")
    assert_one_error_line(run("get", "pods"),
                          "cannot reach the apiserver at https://127.0.0.1:1: connection "
                          "refused; is the cluster running? try 'make up'")


def test_kubeconfig_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_config(path: str | None, context: str | None) -> Any:
        raise KubeconfigError("no kubeconfig at ~/.schooner/kubeconfig: run 'make up'")

    monkeypatch.setattr(main, "client_factory", no_config)
    assert_one_error_line(run("get", "pods"),
                          "no kubeconfig at ~/.schooner/kubeconfig: run 'make up'")


def test_manifest_error_names_file_and_line(client: FakeClient, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: v1\nkind: Pod\n  name: web\n")
    assert_one_error_line(run("apply", "-f", str(bad)),
                          f"{bad}:3:7: mapping values are not allowed here")


def test_unknown_resource(client: FakeClient) -> None:
    assert_one_error_line(run("get", "gadgets"),
                          'the server doesn\'t have a resource type "gadgets"')


def test_unexpected_error_has_no_traceback(client: FakeClient) -> None:
    client.fail = RuntimeError("boom\nsecond line")
    result = run("get", "pods")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: internal error: RuntimeError: boom second line")


def test_multi_line_server_message_is_folded(client: FakeClient) -> None:
    client.fail = errors.BadRequest("first\nsecond")
    assert_one_error_line(run("get", "pods"), "first second")


def test_get_table_and_empty_namespace(client: FakeClient) -> None:
    result = run("get", "pods")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0].split()[0] == "NAME"
    assert "web" in result.stdout
    empty = run("get", "pods", "-n", "team")
    assert empty.exit_code == 0
    assert (empty.stdout, empty.stderr) == ("", "No resources found in team namespace.\n")
    assert ("list", "pods", "team", {"label_selector": None, "field_selector": None}) \
        in client.calls
    assert run("--namespace", "team", "get", "nodes").stderr == "No resources found\n"


def test_get_kind_slash_name_as_json(client: FakeClient) -> None:
    result = run("get", "po/web", "-o", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["metadata"]["name"] == "web"
    listed = json.loads(run("get", "pods", "-o", "json").stdout)
    assert listed["kind"] == "List" and listed["items"][0]["kind"] == "Pod"
    assert run("get", "pods", "-o", "name").stdout == "pod/web\n"


def test_get_watch_prints_rows_after_the_list(client: FakeClient) -> None:
    result = run("get", "pods", "-w")
    assert result.exit_code == 0
    assert [line.split()[0] for line in result.stdout.splitlines()] == ["NAME", "web", "later"]
    assert client.calls[-1][3]["resource_version"] == "42"


def test_bad_output_format(client: FakeClient) -> None:
    result = run("get", "pods", "-o", "toml")
    assert result.exit_code == 1
    assert result.stderr.startswith('error: unable to match a printer suitable for the output '
                                    'format "toml"')


def test_apply_reports_each_object_and_fails_at_the_end(client: FakeClient,
                                                         tmp_path: Path) -> None:
    f = tmp_path / "m.yaml"
    f.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n"
                 "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: nope}\n---\n"
                 "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
    result = run("apply", "-f", str(f))
    assert result.exit_code == 1
    assert result.stdout == "configmap/a created\nconfigmap/c created\n"
    assert result.stderr == 'error: namespaces "nope" not found\n'
    again = run("apply", "-f", str(f))
    assert again.stdout.splitlines()[0] == "configmap/a unchanged"
    assert_one_error_line(run("apply", "-f", str(f), "-n", "default"),
                          'the namespace from the provided object "nope" does not match the '
                          'namespace "default". You must pass \'--namespace=nope\' to perform '
                          'this operation.')


def test_apply_from_stdin(client: FakeClient) -> None:
    result = run("apply", "-f", "-", input="apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n")
    assert (result.exit_code, result.stdout) == (0, "secret/s created\n")


def test_delete_prints_kubectl_wording_and_waits(client: FakeClient) -> None:
    result = run("delete", "pod", "web", "missing")
    assert result.exit_code == 1
    assert result.stdout == 'pod "web" deleted\n'
    assert result.stderr == 'error: pods "missing" not found\n'
    assert ("get", "pods", "web", "default") in client.calls  # the wait's poll
    assert run("delete", "pod", "missing", "--ignore-not-found").exit_code == 0


def test_delete_no_wait_does_not_poll(client: FakeClient) -> None:
    result = run("delete", "pods/web", "--no-wait")
    assert result.exit_code == 0
    assert [c[0] for c in client.calls] == ["delete"]
    assert client.calls[0][4]["propagation_policy"] == "Background"


def test_wait_for_deletion_times_out_with_kubectl_message() -> None:
    fake = FakeClient(pod())
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    with pytest.raises(commands.CommandError,
                       match="timed out waiting for the condition on pods/web"):
        commands.wait_for_deletion(fake, [(resolve("pods"), "web", "default", "uid-web")],
                                   2.0, clock=lambda: now[0], sleep=sleep)
    # A new object under the same name (another UID) counts as deleted.
    commands.wait_for_deletion(fake, [(resolve("pods"), "web", "default", "old-uid")], 2.0,
                               clock=lambda: now[0], sleep=sleep)


def test_scale_patches_the_scale_subresource(client: FakeClient) -> None:
    result = run("scale", "deploy/web", "--replicas", "3")
    assert (result.exit_code, result.stdout) == (0, "deployment.apps/web scaled\n")
    assert client.calls == [("patch", "deployments", "web", "default",
                             {"spec": {"replicas": 3}},
                             {"patch_type": "merge", "subresource": "scale"})]
    assert_one_error_line(run("scale", "pod/web", "--replicas", "1"), "pods cannot be scaled")


def test_api_resources_table(client: FakeClient) -> None:
    result = run("api-resources")
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    assert lines[1].split() == ["namespaces", "ns", "v1", "false", "Namespace"]
    assert ["deployments", "deploy", "apps/v1", "true", "Deployment"] in \
        [line.split() for line in lines]
    assert not any("pods/status" in line for line in lines)


def test_version(client: FakeClient) -> None:
    result = run("version")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0].startswith("Client Version: v")
    assert result.stdout.splitlines()[1] == "Server Version: v0.1.0-test"


def test_config_view_redacts(tmp_path: Path) -> None:
    cfg = tmp_path / "kubeconfig"
    cfg.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: s\n"
        "clusters: [{name: s, cluster: {server: 'https://127.0.0.1:6443', "
        "certificate-authority-data: Q0E=}}]\n"
        "users: [{name: admin, user: {token: secret-token}}]\n"
        "contexts: [{name: s, context: {cluster: s, user: admin, namespace: default}}]\n")
    result = run("--kubeconfig", str(cfg), "config", "view")
    assert result.exit_code == 0, result.output
    assert "secret-token" not in result.stdout and "Q0E=" not in result.stdout
    assert "token: REDACTED" in result.stdout
    assert "certificate-authority-data: DATA+OMITTED" in result.stdout
    assert "secret-token" in run("--kubeconfig", str(cfg), "config", "view", "--raw").stdout
    missing = run("--kubeconfig", str(tmp_path / "none"), "config", "view")  # as kubectl:
    assert missing.exit_code == 0 and "clusters: []" in missing.stdout  # an empty config
    cfg.write_text("[not: a mapping")
    bad = run("--kubeconfig", str(cfg), "config", "view")
    assert bad.exit_code == 1 and bad.stderr.startswith(f"error: kubeconfig {cfg} is not valid")


def test_describe_fetches_the_objects_events(client: FakeClient) -> None:
    result = run("describe", "pod", "web")
    assert result.exit_code == 0, result.output
    assert "web" in result.stdout
    events = [c for c in client.calls if c[:2] == ("list", "events")]
    assert events == [("list", "events", "default", {"field_selector": (
        "involvedObject.name=web,involvedObject.namespace=default,involvedObject.kind=Pod")})]


def test_logs_prints_lines(client: FakeClient) -> None:
    seen: dict[str, Any] = {}

    def logs(name: str, namespace: str, **kw: Any) -> Iterator[str]:
        seen.update(kw, name=name, namespace=namespace)
        yield from ["one", "two"]

    client.logs = logs  # type: ignore[attr-defined]
    result = run("logs", "pod/web", "-c", "c", "--tail", "2")
    assert (result.exit_code, result.stdout) == (0, "one\ntwo\n")
    assert seen == {"name": "web", "namespace": "default", "container": "c", "follow": False,
                    "tail_lines": 2, "timestamps": False}


def test_describe_deployment_reads_its_replica_sets(client: FakeClient) -> None:
    client.store[("deployments", "default", "web")] = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}
    result = run("describe", "deploy/web")
    assert result.exit_code == 0, result.output
    assert ("list", "replicasets", "default", {"label_selector": "app=web"}) in client.calls
