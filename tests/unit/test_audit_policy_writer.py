"""The audit Policy (apiserver/audit/policy.py) and the log writer (writer.py)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml

from apimachinery.auditpolicy import DEFAULT_POLICY, ensure_default_policy
from apiserver.audit import policy
from apiserver.audit.policy import Attributes, PolicyError
from apiserver.audit.writer import ERRORS, AuditWriter

ALICE = ("alice", ("devs", "system:authenticated"))


def attrs(verb: str, resource: str = "pods", *, user: tuple[str, tuple[str, ...]] = ALICE,
          namespace: str = "default", name: str = "", sub: str = "", group: str = "",
          path: str = "/api/v1/x") -> Attributes:
    return Attributes(user[0], user[1], verb, path, resource, sub, group, namespace, name)


def doc(*rules: dict[str, Any], **top: Any) -> Any:
    return {"apiVersion": "audit.k8s.io/v1", "kind": "Policy", "rules": list(rules), **top}


def test_default_policy_logs_writes_at_metadata_and_no_reads() -> None:
    p = policy.parse(yaml.safe_load(DEFAULT_POLICY))
    for verb in ("create", "update", "patch", "delete", "deletecollection"):
        assert p.decide(attrs(verb))[0] == "Metadata"
        assert p.decide(attrs(verb, "secrets"))[0] == "Metadata"
    for verb in ("get", "list", "watch"):
        assert p.decide(attrs(verb))[0] == "None"
        assert p.decide(attrs(verb, "secrets"))[0] == "None"
    assert p.decide(Attributes("alice", (), "get", "/healthz"))[0] == "None"
    assert p.decide(attrs("create"))[1] == frozenset({"RequestReceived"})


def test_secrets_stay_at_metadata_when_writes_are_raised_to_request() -> None:
    """The default's order: its first rule still wins if a Request rule is appended."""
    document = yaml.safe_load(DEFAULT_POLICY)
    document["rules"].insert(1, {"level": "Request"})
    p = policy.parse(document)
    assert p.decide(attrs("create", "secrets"))[0] == "Metadata"
    assert p.decide(attrs("create", "pods"))[0] == "Request"


def test_first_matching_rule_wins_and_fields_all_must_match() -> None:
    p = policy.parse(doc(
        {"level": "None", "users": ["system:kube-proxy"]},
        {"level": "RequestResponse", "userGroups": ["devs"], "namespaces": ["prod"],
         "resources": [{"group": "apps", "resources": ["deployments/scale"]}]},
        {"level": "Request", "resources": [{"group": "", "resources": ["pods/*"]}]},
        {"level": "Metadata", "resources": [{"group": "", "resources": ["*/status"]}]},
        {"level": "Request", "resources": [{"group": "", "resources": ["configmaps"],
                                            "resourceNames": ["cfg"]}]},
        {"level": "Metadata", "nonResourceURLs": ["/healthz*"]},
        omitStages=["RequestReceived"]))
    proxy = ("system:kube-proxy", ())
    assert p.decide(attrs("create", user=proxy))[0] == "None"
    scale = attrs("update", "deployments", sub="scale", group="apps", namespace="prod")
    assert p.decide(scale)[0] == "RequestResponse"
    assert p.decide(attrs("update", "deployments", sub="scale", group="apps"))[0] == "None"
    assert p.decide(attrs("get", "pods", sub="log"))[0] == "Request"
    assert p.decide(attrs("get", "pods"))[0] == "Request"  # as Kubernetes: pods/* takes pods
    assert p.decide(attrs("update", "services", sub="status"))[0] == "Metadata"
    assert p.decide(attrs("get", "configmaps", name="cfg"))[0] == "Request"
    assert p.decide(attrs("get", "configmaps", name="other"))[0] == "None"
    assert p.decide(Attributes("bob", (), "get", "/healthz/ready"))[0] == "Metadata"
    assert p.decide(Attributes("bob", (), "get", "/metrics"))[0] == "None"


def test_rule_omit_stages_add_to_the_policy_s() -> None:
    p = policy.parse(doc({"level": "Metadata", "omitStages": ["ResponseStarted"]},
                         omitStages=["RequestReceived"]))
    assert p.decide(attrs("get"))[1] == frozenset({"RequestReceived", "ResponseStarted"})


@pytest.mark.parametrize(("document", "message"), [
    ({"kind": "Policy"}, "audit policy must be kind Policy in audit.k8s.io/v1"),
    (doc(), "loaded illegal policy with 0 rules"),
    (doc({"level": "Everything"}), "rules[0].level: Unsupported value: 'Everything': "
                                   "supported values: 'None', 'Metadata'"),
    (doc({"level": "None"}, {"level": "Metadata", "omitStages": ["Later"]}),
     "rules[1].omitStages[0]: Unsupported value: 'Later'"),
    (doc({"level": "Metadata", "nonResourceURLs": ["/x"], "namespaces": ["a"]}),
     "rules cannot apply to both regular resources and non-resource URLs"),
    (doc({"level": "Metadata", "nonResourceURLs": ["healthz"]}),
     "rules[0].nonResourceURLs[0]: Invalid value: 'healthz'"),
    (doc({"level": "Metadata", "verbs": "get"}), "rules[0].verbs: Invalid value: must be a list"),
    (doc({"level": "Metadata", "resources": [{"resources": ["a/b/c"]}]}),
     "rules[0].resources[0].resources[0]: Invalid value: 'a/b/c'"),
])
def test_invalid_policies_name_the_field(document: Any, message: str) -> None:
    with pytest.raises(PolicyError) as info:
        policy.parse(document)
    assert message in str(info.value)


def test_ensure_default_policy_keeps_a_user_s_edits(tmp_path: Path) -> None:
    path = tmp_path / "audit-policy.yaml"
    assert ensure_default_policy(path) is True
    policy.load(path)
    path.write_text(path.read_text() + "# mine\n")
    assert ensure_default_policy(path) is False
    assert path.read_text().endswith("# mine\n")


def lines(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def test_writer_writes_json_lines_0600_in_order(tmp_path: Path) -> None:
    path = tmp_path / "logs" / "audit.log"
    writer = AuditWriter(str(path))
    writer.start()
    for i in range(100):
        assert writer.submit({"i": i})
    writer.close()
    assert [e["i"] for e in lines(path)] == list(range(100))
    assert path.stat().st_mode & 0o777 == 0o600


def test_writer_rotates_by_size_and_keeps_max_backups(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    writer = AuditWriter(str(path), max_bytes=1000, max_backups=2)
    writer.start()
    for i in range(200):  # ~12 bytes a line: about 2,400 bytes, two or three rotations
        writer.submit({"i": i})
        if i % 40 == 0:
            time.sleep(0.01)  # distinct rotation timestamps (millisecond names)
    writer.close()
    backups = writer.backups()
    assert 1 <= len(backups) <= 2
    assert all(b.name.startswith("audit-") and b.suffix == ".log" for b in backups)
    assert all(b.stat().st_size <= 1000 for b in [*backups, path])
    kept = [e["i"] for b in backups for e in lines(b)] + [e["i"] for e in lines(path)]
    assert kept == list(range(kept[0], 200))  # the newest events, in order, none lost within


def test_writer_prunes_backups_older_than_max_age(tmp_path: Path) -> None:
    path = tmp_path / "audit.log"
    old = tmp_path / "audit-2020-01-01T00-00-00.000.log"
    old.write_text("{}\n")
    os.utime(old, (time.time() - 3 * 86400,) * 2)
    writer = AuditWriter(str(path), max_bytes=50, max_age_days=1)
    writer.start()
    for i in range(20):
        writer.submit({"i": i})
    writer.close()
    assert not old.exists()
    assert writer.backups()


def test_a_full_queue_drops_and_counts_instead_of_blocking(tmp_path: Path) -> None:
    """The writer thread is not started: nothing drains the queue."""
    writer = AuditWriter(str(tmp_path / "audit.log"), capacity=3)
    before = ERRORS.labels("log")._value.get()
    started = time.perf_counter()
    results = [writer.submit({"i": i}) for i in range(10)]
    assert time.perf_counter() - started < 0.1
    assert results == [True] * 3 + [False] * 7
    assert ERRORS.labels("log")._value.get() - before == 7


def test_dash_writes_to_stdout(capfd: pytest.CaptureFixture[str]) -> None:
    writer = AuditWriter("-")
    writer.start()
    writer.submit({"i": 1})
    writer.submit(b'{"i":2}')
    writer.close()
    out = capfd.readouterr().out
    assert [orjson.loads(line)["i"] for line in out.splitlines()] == [1, 2]
