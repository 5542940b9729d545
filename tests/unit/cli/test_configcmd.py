"""`schooner config`: the edits kubectl config makes, in the files kubectl would write them.

Expected messages and file contents are kubectl v1.32's, observed on the same steps.
"""

from __future__ import annotations

import base64
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from apimachinery.kubeconfig import load_kubeconfig
from cli import kubeconfigedit, main


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("SCHOONER_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)


def run(*args: str) -> Any:
    return CliRunner().invoke(main.app, list(args))


def ok(*args: str) -> str:
    result = run(*args)
    assert result.exit_code == 0, result.output
    return str(result.stdout)


def fails(*args: str) -> str:
    result = run(*args)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and len(result.stderr.splitlines()) == 1
    return str(result.stderr)


def doc(path: Path) -> dict[str, Any]:
    loaded = yaml.safe_load(path.read_text())
    assert isinstance(loaded, dict)
    return loaded


def named(d: dict[str, Any], section: str, name: str) -> Any:
    return next(e for e in d[section] if e["name"] == name)


def test_a_user_cluster_and_context_from_nothing(tmp_path: Path) -> None:
    kc = tmp_path / "kc"
    (tmp_path / "ca.crt").write_bytes(b"CA")
    (tmp_path / "a.crt").write_bytes(b"C")
    (tmp_path / "a.key").write_bytes(b"K")
    k = ("--kubeconfig", str(kc))
    assert ok(*k, "config", "set-cluster", "c1", "--server", "https://h:6443",
              "--certificate-authority", "ca.crt", "--embed-certs") == 'Cluster "c1" set.\n'
    assert ok(*k, "config", "set-credentials", "alice", "--client-certificate", "a.crt",
              "--client-key", "a.key", "--embed-certs") == 'User "alice" set.\n'
    assert ok(*k, "config", "set-context", "dev", "--cluster", "c1", "--user", "alice",
              "--namespace", "team") == 'Context "dev" created.\n'
    assert ok(*k, "config", "set-context", "dev", "--namespace", "qa") == \
        'Context "dev" modified.\n'
    assert ok(*k, "config", "use-context", "dev") == 'Switched to context "dev".\n'
    assert stat.S_IMODE(kc.stat().st_mode) == 0o600
    d = doc(kc)
    assert named(d, "clusters", "c1")["cluster"] == {
        "server": "https://h:6443", "certificate-authority-data": base64.b64encode(b"CA").decode()}
    assert named(d, "users", "alice")["user"] == {
        "client-certificate-data": base64.b64encode(b"C").decode(),
        "client-key-data": base64.b64encode(b"K").decode()}
    assert named(d, "contexts", "dev")["context"] == {"cluster": "c1", "user": "alice",
                                                      "namespace": "qa"}
    cfg = load_kubeconfig(str(kc))
    assert (cfg.server, cfg.ca_data, cfg.client_cert, cfg.namespace) == \
        ("https://h:6443", b"CA", b"C", "qa")
    assert ok(*k, "config", "current-context") == "dev\n"


def test_file_paths_are_kept_relative_to_the_kubeconfig(tmp_path: Path) -> None:
    kc = tmp_path / "kc"
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.crt").write_bytes(b"C")
    ok("--kubeconfig", str(kc), "config", "set-credentials", "u",
       "--client-certificate", "a.crt", "--client-key", "/elsewhere/a.key")
    assert named(doc(kc), "users", "u")["user"] == {"client-certificate": "a.crt",
                                                    "client-key": "/elsewhere/a.key"}
    ok("--kubeconfig", str(kc), "config", "set-credentials", "u", "--token", "T")
    assert named(doc(kc), "users", "u")["user"]["token"] == "T"  # the rest kept
    assert named(doc(kc), "users", "u")["user"]["client-certificate"] == "a.crt"


def test_a_field_given_empty_is_cleared_and_one_not_given_is_kept(tmp_path: Path) -> None:
    k = ("--kubeconfig", str(tmp_path / "kc"))
    ok(*k, "config", "set-cluster", "c", "--server", "https://h", "--insecure-skip-tls-verify")
    ok(*k, "config", "set-credentials", "u", "--token", "T")
    ok(*k, "config", "set-context", "x", "--user", "u", "--namespace", "team")
    assert named(doc(tmp_path / "kc"), "clusters", "c")["cluster"] == {
        "server": "https://h", "insecure-skip-tls-verify": True}
    ok(*k, "config", "set-credentials", "u", "--token", "")
    ok(*k, "config", "set-context", "x", "--namespace", "")
    d = doc(tmp_path / "kc")
    assert named(d, "users", "u")["user"] == {}
    assert named(d, "contexts", "x")["context"] == {"cluster": "", "user": "u"}
    # The CLI's flag only turns it on; the edit clears it as kubectl's `=false` does.
    kubeconfigedit.set_cluster(d, "c", str(tmp_path / "kc"), insecure=False)
    assert named(d, "clusters", "c")["cluster"] == {"server": "https://h"}


def test_embedding_a_missing_file_is_one_line(tmp_path: Path) -> None:
    kc = str(tmp_path / "kc")
    assert fails("--kubeconfig", kc, "config", "set-cluster", "c", "--embed-certs",
                 "--certificate-authority", "nofile") == \
        "error: could not stat certificate-authority file nofile: no such file or directory\n"
    assert not Path(kc).exists()


def test_errors_are_kubectls(tmp_path: Path) -> None:
    k = ("--kubeconfig", str(tmp_path / "kc"))
    assert fails(*k, "config", "current-context") == "error: current-context is not set\n"
    assert fails(*k, "config", "use-context", "y") == \
        'error: no context exists with the name: "y"\n'
    assert fails(*k, "config", "delete-context", "x") == \
        f"error: cannot delete context x, not in {tmp_path / 'kc'}\n"
    ok(*k, "config", "set-context", "x")
    result = run(*k, "config", "get-contexts", "nope")
    assert result.exit_code == 1 and result.stderr == "error: context nope not found\n"


def test_get_contexts_marks_the_current_one(tmp_path: Path) -> None:
    k = ("--kubeconfig", str(tmp_path / "kc"))
    ok(*k, "config", "set-context", "b", "--cluster", "c", "--user", "u", "--namespace", "n")
    ok(*k, "config", "set-context", "a", "--cluster", "c2", "--user", "u2")
    ok(*k, "config", "use-context", "b")
    assert ok(*k, "config", "get-contexts").splitlines() == [
        "CURRENT   NAME   CLUSTER   AUTHINFO   NAMESPACE",
        "          a      c2        u2         ",
        "*         b      c         u          n"]
    assert ok(*k, "config", "get-contexts", "-o", "name") == "a\nb\n"


def test_delete_context_warns_when_it_was_current(tmp_path: Path) -> None:
    kc = tmp_path / "kc"
    ok("--kubeconfig", str(kc), "config", "set-context", "x")
    ok("--kubeconfig", str(kc), "config", "use-context", "x")
    result = run("--kubeconfig", str(kc), "config", "delete-context", "x")
    assert result.exit_code == 0
    assert result.stdout == f"deleted context x from {kc}\n"
    assert "removed your active context" in result.stderr
    assert doc(kc)["contexts"] == []


def test_kubeconfig_list_merges_and_writes_where_kubectl_does(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    k1, k2 = tmp_path / "k1", tmp_path / "k2"
    monkeypatch.setenv("KUBECONFIG", f"{k1}:{k2}")
    ok("config", "set-context", "first")  # no file exists: the last one is written
    assert not k1.exists() and named(doc(k2), "contexts", "first")
    k1.write_text(yaml.safe_dump({"contexts": [
        {"name": "z", "context": {"cluster": "c", "user": "u"}},
        {"name": "first", "context": {"cluster": "shadowed", "user": ""}}]}))
    ok("config", "set-context", "new")  # a new entry: the first file that exists
    assert named(doc(k1), "contexts", "new")
    ok("config", "set-context", "z", "--namespace", "q")  # an entry: the file it is in
    assert named(doc(k1), "contexts", "z")["context"]["namespace"] == "q"
    ok("config", "use-context", "z")
    assert doc(k1)["current-context"] == "z"
    rows = ok("config", "get-contexts", "--no-headers").split("\n")
    assert any(r.split()[:2] == ["first", "shadowed"] for r in rows)  # first file wins
    assert fails("config", "delete-user", "nobody") == f"error: cannot delete user nobody, " \
        f"not in {k1}\n"


def test_view_redacts_minifies_and_flattens(tmp_path: Path) -> None:
    kc = tmp_path / "kc"
    (tmp_path / "ca.crt").write_bytes(b"CA")
    k = ("--kubeconfig", str(kc))
    ok(*k, "config", "set-cluster", "c", "--server", "https://h", "--certificate-authority",
       "ca.crt")
    ok(*k, "config", "set-credentials", "u", "--token", "secret")
    ok(*k, "config", "set-credentials", "other", "--token", "other-secret")
    ok(*k, "config", "set-context", "x", "--cluster", "c", "--user", "u")
    ok(*k, "config", "use-context", "x")
    shown = yaml.safe_load(ok(*k, "config", "view"))
    assert [u["user"] for u in shown["users"]] == [{"token": "REDACTED"}] * 2
    assert [u["name"] for u in shown["users"]] == ["other", "u"]  # sorted, as kubectl
    minified = yaml.safe_load(ok(*k, "config", "view", "--minify", "--raw"))
    assert minified["users"] == [{"name": "u", "user": {"token": "secret"}}]
    flat = yaml.safe_load(ok(*k, "config", "view", "--flatten", "--raw", "--minify"))
    assert flat["clusters"][0]["cluster"] == {
        "server": "https://h", "certificate-authority-data": base64.b64encode(b"CA").decode()}
    assert fails(*k, "--context", "nope", "config", "view", "--minify") == \
        "error: cannot locate context nope\n"
