"""Fuzz every path and verb of the API from the OpenAPI documents it serves (schemathesis).

The apiserver's own `/openapi/v3` documents (one per group version, merged into
one) drive schemathesis: for every operation it generates path and query
parameters and bodies, valid by the schema (positive) and not (negative). Half
of the cases aim their `{namespace}`/`{name}` at an object seeded just before
(and the body's metadata at the same names), so updates, patches, subresources
and deletes reach the code behind a found object rather than stopping at 404.

Each response must be below 500, and every error a v1 Status whose code is the
HTTP status; each request must end within `FUZZ_REQUEST_TIMEOUT` (a watch the
fuzzer asks for gets `timeoutSeconds=1`, since a watch is meant to stay open),
and the apiserver's resident memory may grow by at most `FUZZ_RSS_GROWTH_MB`
over the run. The apiserver and etcd are this module's own: the fuzzer deletes
collections of Namespaces and Nodes, which must not reach other tests' objects,
and the memory figure must be this run's alone.

`make test` runs a bounded, derandomized pass (a few examples per operation);
`make fuzz` runs a long one (`FUZZ_EXAMPLES`, `FUZZ_SEED`). A failure lists
each failing operation once with the request as a curl command.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from apiserver.params import parse_bool
from cli.cluster.processes import Apiserver, own_control_plane
from tests.integration.fuzz_mutations import NodePath, as_body, mutations, subresource_body
from tests.integration.sample_objects import every_kind

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "5"))  # per operation; `make fuzz` sets more
SEED = int(os.environ.get("FUZZ_SEED", "14"))
REQUEST_TIMEOUT = float(os.environ.get("FUZZ_REQUEST_TIMEOUT", "10"))
RSS_GROWTH_MB = float(os.environ.get("FUZZ_RSS_GROWTH_MB", "64"))
SEED_NAME = "fuzz"

# About 0.1 s a case on an idle machine (~200 operations: ~100 s at 5 examples), but a
# loaded one (load 20-30 on 2 cores: 368-543 s) needs several times that; a hung request
# is caught by REQUEST_TIMEOUT, so this bound is a last resort: 0.6 s a case for up to
# 250 operations (the documents serve ~200), plus start-up.
OPERATIONS_BOUND = 250
pytestmark = pytest.mark.timeout(float(os.environ.get(
    "FUZZ_TIMEOUT", 120 + 0.6 * OPERATIONS_BOUND * EXAMPLES)))


@pytest.fixture(scope="module")
def fuzz_apiserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Apiserver]:
    with own_control_plane(tmp_path_factory.mktemp("fuzz")) as server:
        yield server


def served_openapi(server: Apiserver) -> dict[str, Any]:
    """Every group version's `/openapi/v3` document as one: the paths are disjoint and a
    schema two documents share (ObjectMeta, PodTemplateSpec) must be the same in both."""
    with server.http() as http:
        index = http.get("/openapi/v3").raise_for_status().json()
        docs = [http.get(entry["serverRelativeURL"]).raise_for_status().json()
                for entry in index["paths"].values()]
    merged: dict[str, Any] = {**docs[0], "paths": {}, "components": {"schemas": {}}}
    for doc in docs:
        components = doc.get("components", {})
        for name, schema in components.get("schemas", {}).items():
            assert merged["components"]["schemas"].setdefault(name, schema) == schema, name
        merged["components"].setdefault("securitySchemes", components.get("securitySchemes"))
        assert not merged["paths"].keys() & doc["paths"].keys()
        merged["paths"].update(doc["paths"])
    return merged


def rss_kib(pid: int) -> int:
    """VmRSS of a process, from /proc (KiB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for pid {pid}")


@dataclass
class Target:
    """Where an operation's path parameters point when a case aims at a seeded object."""

    plural: str
    collection: str  # the seed's collection path; `{namespace}` is filled in when seeding
    name: str
    subresource: str | None

    def manifest(self, namespace: str) -> dict[str, Any]:
        return dict(MANIFESTS[self.plural](self.name, namespace))


def _priority_class(name: str, namespace: str) -> dict[str, Any]:
    return {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
            "metadata": {"name": name}, "value": 1000}


def _endpoint_slice(name: str, namespace: str) -> dict[str, Any]:
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": name}, "addressType": "IPv4",
            "endpoints": [{"addresses": ["10.0.0.1"]}], "ports": [{"port": 80}]}


def _sample(plural: str) -> Any:
    return lambda name, namespace: dict(every_kind(name, namespace))[plural]


def _review(api_version: str, kind: str, spec: dict[str, Any] | None = None) -> Any:
    """A create-only kind's valid body (a review: answered, never stored)."""
    body = {"apiVersion": api_version, "kind": kind, **({"spec": spec} if spec else {})}
    return lambda name, namespace: dict(body)


def _rule_kind(kind: str) -> Any:
    """An RBAC Role/ClusterRole granting a read, or a binding of `view` to a user."""
    def manifest(name: str, namespace: str) -> dict[str, Any]:
        body: dict[str, Any] = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind,
                                "metadata": {"name": name}}
        if kind.endswith("Binding"):
            body["roleRef"] = {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                               "name": "view"}
            body["subjects"] = [{"kind": "User", "name": "fuzz",
                                 "apiGroup": "rbac.authorization.k8s.io"}]
        else:
            body["rules"] = [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]
        return body
    return manifest


ACCESS = {"resourceAttributes": {"verb": "get", "resource": "pods", "namespace": "default"}}
MANIFESTS = {plural: _sample(plural) for plural, _ in every_kind("x")} | {
    "priorityclasses": _priority_class, "endpointslices": _endpoint_slice,
    "selfsubjectreviews": _review("authentication.k8s.io/v1", "SelfSubjectReview"),
    "tokenreviews": _review("authentication.k8s.io/v1", "TokenReview", {"token": "x"}),
    "subjectaccessreviews": _review("authorization.k8s.io/v1", "SubjectAccessReview",
                                    {**ACCESS, "user": "fuzz"}),
    "selfsubjectaccessreviews": _review("authorization.k8s.io/v1", "SelfSubjectAccessReview",
                                        ACCESS),
    "selfsubjectrulesreviews": _review("authorization.k8s.io/v1", "SelfSubjectRulesReview",
                                       {"namespace": "default"}),
    "roles": _rule_kind("Role"), "clusterroles": _rule_kind("ClusterRole"),
    "rolebindings": _rule_kind("RoleBinding"),
    "clusterrolebindings": _rule_kind("ClusterRoleBinding"),
}


def target(path: str) -> Target:
    """The kind an operation's path addresses: `/api/v1/namespaces/{namespace}/pods/{name}/log`
    -> the pod `fuzz`; `/api/v1/namespaces/{name}` -> the namespace `fuzz-target` (not the
    one the namespaced seeds live in, which its delete would leave terminating)."""
    parts = path.strip("/").split("/")
    prefix = 2 if parts[0] == "api" else 3
    rest = parts[prefix:]
    if rest[:2] == ["namespaces", "{namespace}"]:
        plural = rest[2]
        collection = "/".join([*parts[:prefix], "namespaces", "{namespace}", plural])
    else:
        plural = rest[0]
        collection = "/".join([*parts[:prefix], plural])
    name = f"{SEED_NAME}-target" if plural == "namespaces" else SEED_NAME
    after = path.split("{name}/", 1)
    return Target(plural, "/" + collection, name, after[1] if len(after) == 2 else None)


@dataclass
class Findings:
    """What the run saw: how many answers of each status, and each operation's first
    failure (with the request as a curl command)."""

    statuses: Counter[int] = field(default_factory=Counter)
    failures: dict[str, str] = field(default_factory=dict)
    requests: int = 0
    seconds: dict[str, float] = field(default_factory=dict)  # per operation

    def slowest(self, count: int = 5) -> str:
        ranked = sorted(self.seconds.items(), key=lambda item: -item[1])[:count]
        return ", ".join(f"{label} {took:.1f}s" for label, took in ranked)


class Fuzzer:
    """Sends schemathesis' cases for one operation at a time and checks each answer."""

    def __init__(self, server: Apiserver, session: requests.Session) -> None:
        self.server, self.session, self.findings = server, session, Findings()
        self.namespace, self.generation = SEED_NAME, 0

    def seed(self, where: Target) -> None:
        """The operation's kind named `fuzz` in the seed namespace, made again when a case
        deleted it. A Namespace the fuzzer deleted stays terminating (no namespace
        controller finalizes it here), so then the seeds move to a new namespace."""
        created = self._post("/api/v1/namespaces", MANIFESTS["namespaces"](self.namespace, ""))
        if created.status_code == 409 and self._terminating(self.namespace):
            self.generation += 1
            self.namespace = f"{SEED_NAME}-{self.generation}"
            self._post("/api/v1/namespaces", MANIFESTS["namespaces"](self.namespace, ""))
        self._post(where.collection.replace("{namespace}", self.namespace),
                   where.manifest(self.namespace))

    def _post(self, path: str, body: dict[str, Any]) -> requests.Response:
        response = self.session.post(self.server.url + path, json=body, timeout=REQUEST_TIMEOUT)
        assert response.status_code < 500, (path, response.text)
        return response

    def _terminating(self, namespace: str) -> bool:
        response = self.session.get(f"{self.server.url}/api/v1/namespaces/{namespace}",
                                    timeout=REQUEST_TIMEOUT)
        return bool(response.json().get("metadata", {}).get("deletionTimestamp"))

    def aim(self, case: schemathesis.Case, where: Target) -> None:
        """Point the case at the seeded object: path parameters and the body's metadata."""
        self.seed(where)
        if "namespace" in case.path_parameters:
            case.path_parameters["namespace"] = self.namespace
        if "name" in case.path_parameters:
            case.path_parameters["name"] = where.name
        if isinstance(case.body, dict) and isinstance(case.body.get("metadata"), dict):
            case.body["metadata"]["name"] = where.name
            if "namespace" in case.path_parameters:
                case.body["metadata"]["namespace"] = self.namespace

    def send(self, case: schemathesis.Case) -> None:
        """One request, checked: no hang, no 5xx, every error a v1 Status."""
        query = case.query or {}
        if "watch" in query and parse_bool(str(query["watch"])):
            case.query = {**query, "timeoutSeconds": 1}  # a watch stays open by design
        started = time.monotonic()
        try:
            response = case.call(base_url=self.server.url, session=self.session,
                                 timeout=REQUEST_TIMEOUT, verify=self.session.verify)
        except requests.Timeout:
            raise AssertionError(f"no answer within {REQUEST_TIMEOUT}s") from None
        self.findings.requests += 1
        self.findings.statuses[response.status_code] += 1
        if not too_large_resource_version(response.status_code, response.content):
            case.validate_response(response, checks=[schemathesis.checks.not_a_server_error])
        if response.status_code >= 400:
            check_status(response.status_code, response.content)
        assert time.monotonic() - started < REQUEST_TIMEOUT

    def valid_body(self, operation: schemathesis.APIOperation, where: Target) -> Any:
        return subresource_body(where.subresource, operation.method.upper(), where.name,
                                self.namespace, where.manifest(self.namespace))

    def run(self, operation: schemathesis.APIOperation) -> None:
        """EXAMPLES cases, positive and negative, a third as generated, a third aimed at a
        seeded object, a third aimed with a valid body that has one node made wrong
        (`fuzz_mutations`; operations without a body are aimed only)."""
        where = target(operation.path)
        cases = st.one_of([operation.as_strategy(generation_mode=mode)
                           for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)])

        @seed(SEED)
        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=False,
                  phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(case=cases, mode=st.sampled_from(["generated", "aimed", "mutated"]),
               mutation=mutations(self.valid_body(operation, where)))
        def fuzz(case: schemathesis.Case, mode: str, mutation: tuple[NodePath, Any]) -> None:
            if mode != "generated":
                self.aim(case, where)
            if mode == "mutated" and case.media_type is not None:
                case.body = as_body(case.media_type, self.valid_body(operation, where),
                                    *mutation)
            try:
                self.send(case)
            except (Exception, BaseExceptionGroup) as exc:  # schemathesis' FailureGroup is Base
                self.findings.failures.setdefault(
                    operation.label, f"{exc}\n    {case.as_curl_command(verify=False)}")
                raise AssertionError(operation.label) from exc

        try:
            fuzz()
        except (Exception, BaseExceptionGroup) as exc:  # on to the next operation
            # A failure is recorded already; this keeps what was not one (a replay that
            # answered differently is hypothesis' Flaky, the server's state having moved on).
            self.findings.failures.setdefault(operation.label, repr(exc))


def too_large_resource_version(code: int, body: bytes) -> bool:
    """Kubernetes' own 5xx: a generated resourceVersion etcd has not reached is, after
    the 3 s wait, a 504 with the cause ResourceVersionTooLarge (`apiserver/freshness.py`)."""
    if code != 504:
        return False
    try:
        causes = (json.loads(body).get("details") or {}).get("causes") or []
    except (ValueError, AttributeError):
        return False
    return [c.get("reason") for c in causes] == ["ResourceVersionTooLarge"]


def check_status(code: int, body: bytes) -> None:
    """An error answer is a v1 Status carrying the HTTP status as its code."""
    try:
        status = json.loads(body)
    except ValueError:
        raise AssertionError(f"{code} answer is not JSON: {body[:200]!r}") from None
    assert isinstance(status, dict) and status.get("kind") == "Status" \
        and status.get("apiVersion") == "v1" and status.get("code") == code, \
        f"{code} answer is not a v1 Status with code {code}: {body[:200]!r}"


def test_every_operation_survives_generated_requests(fuzz_apiserver: Apiserver,
                                                     tmp_path: Path) -> None:
    document = served_openapi(fuzz_apiserver)
    schema = schemathesis.openapi.from_dict(document)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 100, "the documents lost operations"
    assert len(operations) <= OPERATIONS_BOUND, "raise OPERATIONS_BOUND (the time bound)"
    ca = tmp_path / "ca.crt"
    ca.write_bytes(fuzz_apiserver.ca_pem)
    with requests.Session() as session:
        session.trust_env = False  # REQUESTS_CA_BUNDLE and proxies would override ours
        session.verify = str(ca)
        session.headers["Authorization"] = f"Bearer {fuzz_apiserver.token}"
        fuzzer = Fuzzer(fuzz_apiserver, session)
        pid = fuzz_apiserver.process.pid
        before = rss_kib(pid)
        started = time.monotonic()
        for operation in operations:
            begun = time.monotonic()
            fuzzer.run(operation)
            fuzzer.findings.seconds[operation.label] = time.monotonic() - begun
        elapsed = time.monotonic() - started
        after = rss_kib(pid)
    findings = fuzzer.findings
    print(f"\nfuzz: {len(operations)} operations, {findings.requests} requests in "
          f"{elapsed:.0f}s ({EXAMPLES} examples each, seed {SEED}); statuses "
          f"{dict(sorted(findings.statuses.items()))}; apiserver RSS {before // 1024} MiB -> "
          f"{after // 1024} MiB; slowest: {findings.slowest()}")
    assert not findings.failures, "\n\n".join(
        f"{label}: {failure}" for label, failure in findings.failures.items())
    assert findings.statuses.keys() & {200, 201}, "no request succeeded: is the auth right?"
    assert (after - before) / 1024 < RSS_GROWTH_MB, (
        f"apiserver RSS grew from {before // 1024} MiB to {after // 1024} MiB")


def test_the_status_check_refuses_what_is_not_a_v1_status() -> None:
    """The check the fuzzer applies to each error answer refuses what is not a v1 Status."""
    check_status(404, b'{"kind":"Status","apiVersion":"v1","code":404}')
    for body in (b"Internal Server Error", b'{"kind":"Status","apiVersion":"v1","code":500}',
                 b'{"kind":"Pod","apiVersion":"v1"}'):
        with pytest.raises(AssertionError):
            check_status(404, body)



def test_only_the_too_large_resource_version_504_is_let_through() -> None:
    """The one 5xx Kubernetes answers by design; any other 5xx still fails the fuzzer."""
    cause = b'"details":{"causes":[{"reason":"ResourceVersionTooLarge"}]}'
    assert too_large_resource_version(504, b'{"kind":"Status","code":504,' + cause + b"}")
    assert not too_large_resource_version(500, b'{"kind":"Status","code":500,' + cause + b"}")
    assert not too_large_resource_version(504, b'{"kind":"Status","code":504}')
    assert not too_large_resource_version(504, b"Gateway Timeout")
