"""`cli.manifests`: what `-f FILE|DIR|-` yields, and where it says a manifest is wrong."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from cli.manifests import ManifestError, load_manifests, parse_manifests

DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
"""
SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: web
"""


def _write(path: Path, text: str) -> str:
    path.write_text(text)
    return str(path)


def test_multi_document_file_in_order_with_empty_documents_skipped(tmp_path: Path) -> None:
    f = _write(tmp_path / "app.yaml", f"---\n{DEPLOY}---\n---\n# only a comment\n---\n{SERVICE}")
    got = load_manifests([f])
    assert [(m.resource.kind, m.name) for m in got] == [("Deployment", "web"), ("Service", "web")]
    assert got[0].obj["spec"] == {"replicas": 2}
    assert [m.document for m in got] == [1, 4]  # a leading --- opens no document
    assert all(m.source == f for m in got)


def test_yaml_syntax_error_names_file_line_and_column(tmp_path: Path) -> None:
    f = _write(tmp_path / "bad.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: [x\n")
    with pytest.raises(ManifestError) as info:
        load_manifests([f])
    message = str(info.value)
    assert message.startswith(f"{f}:5:1: ")
    assert "\n" not in message


def test_yaml_error_line_points_at_the_offending_line(tmp_path: Path) -> None:
    f = _write(tmp_path / "bad.yaml", "apiVersion: v1\nkind: Pod\n  name: web\n")
    with pytest.raises(ManifestError, match=r"bad\.yaml:3:7: mapping values are not allowed"):
        load_manifests([f])


def test_unknown_kind_names_file_and_document(tmp_path: Path) -> None:
    f = _write(tmp_path / "x.yaml", f"{DEPLOY}---\napiVersion: v1\nkind: Gadget\n"
                                    "metadata: {name: g}\n")
    with pytest.raises(ManifestError) as info:
        load_manifests([f])
    assert str(info.value) == f'{f}: document 2: no matches for kind "Gadget" in version "v1"'


def test_missing_api_version_and_kind(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=r"x\.yaml: document 1: apiVersion not set, "
                                            r"kind not set"):
        parse_manifests("metadata: {name: web}\n", "x.yaml")


def test_missing_name_and_non_mapping_documents() -> None:
    with pytest.raises(ManifestError, match=r"document 1: metadata\.name is required"):
        parse_manifests("apiVersion: v1\nkind: Pod\n", "p.yaml")
    with pytest.raises(ManifestError, match="document 1: expected a mapping, got list"):
        parse_manifests("- a\n- b\n", "p.yaml")


def test_directory_reads_manifest_files_sorted_and_ignores_others(tmp_path: Path) -> None:
    _write(tmp_path / "b-service.yml", SERVICE)
    _write(tmp_path / "a-deploy.yaml", DEPLOY)
    _write(tmp_path / "c-config.json",
           '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"}}')
    _write(tmp_path / "README.md", "not a manifest: [")
    (tmp_path / "sub").mkdir()
    _write(tmp_path / "sub" / "z.yaml", "not: [valid")
    got = load_manifests([str(tmp_path)])
    assert [m.resource.kind for m in got] == ["Deployment", "Service", "ConfigMap"]


def test_json_syntax_error_names_file_line_and_column(tmp_path: Path) -> None:
    f = _write(tmp_path / "x.json", '{\n\t"apiVersion": "v1",\n\t"kind": }\n')
    with pytest.raises(ManifestError, match=r"x\.json:3:10: Expecting value"):
        load_manifests([f])


def test_stdin() -> None:
    got = load_manifests(["-"], stdin=io.StringIO(SERVICE))
    assert [(m.resource.plural, m.source) for m in got] == [("services", "<stdin>")]


def test_stdin_syntax_error_is_located() -> None:
    with pytest.raises(ManifestError, match=r"^<stdin>:1:\d+: "):
        load_manifests(["-"], stdin=io.StringIO("a: b: c\n"))


def test_list_is_expanded_and_bad_items_are_located() -> None:
    text = ("apiVersion: v1\nkind: List\nitems:\n"
            "- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n"
            "- {apiVersion: v1, kind: Secret, metadata: {name: b}}\n")
    got = parse_manifests(text, "l.yaml")
    assert [(m.resource.kind, m.name) for m in got] == [("ConfigMap", "a"), ("Secret", "b")]
    with pytest.raises(ManifestError, match=r"l\.yaml: document 1, item 2: no matches"):
        parse_manifests(text.replace("kind: Secret", "kind: Nope"), "l.yaml")


def test_timestamps_stay_strings() -> None:
    got = parse_manifests("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"
                          "data: {day: 2024-01-02}\n", "c.yaml")
    assert got[0].obj["data"] == {"day": "2024-01-02"}


def test_missing_path() -> None:
    with pytest.raises(ManifestError, match=r'the path "nope\.yaml" does not exist'):
        load_manifests(["nope.yaml"])
