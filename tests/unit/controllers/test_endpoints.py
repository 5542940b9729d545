"""The endpoints controller: `compute_subsets` table-driven, then its actions on a fake client."""

from __future__ import annotations

from typing import Any

import pytest

from apimachinery import errors
from apimachinery.meta import Object
from controllers.base import Requeue
from controllers.endpoints import EndpointsController, compute_subsets
from tests.unit.controllers.controller_fakes import FakeClient, obj, run, started


def service(ports: list[Object] | None = None, selector: dict[str, str] | None = None,
            **spec: Any) -> Object:
    return obj("services", "web", metadata={"labels": {"team": "a"}}, spec={
        "selector": {"app": "web"} if selector is None else selector,
        "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}]
        if ports is None else ports, **spec})


def pod(name: str, ip: str = "", *, ready: bool = True, phase: str = "Running",
        labels: dict[str, str] | None = None, container_ports: list[Object] | None = None,
        deleting: bool = False, **spec: Any) -> Object:
    metadata: Object = {"labels": {"app": "web"} if labels is None else labels}
    if deleting:
        metadata["deletionTimestamp"] = "2024-01-01T00:01:00Z"
    status: Object = {"phase": phase, "conditions": [
        {"type": "Ready", "status": "True" if ready else "False"}]}
    if ip:
        status["podIP"] = ip
    return obj("pods", name, metadata=metadata, spec={
        "nodeName": "n1", **spec,
        "containers": [{"name": "c", "image": "busybox", "ports": container_ports or []}]},
        status=status)


def addr(name: str, ip: str, **extra: Any) -> Object:
    return {"ip": ip, **extra, "nodeName": "n1", "targetRef": {
        "kind": "Pod", "namespace": "ns", "name": name, "uid": f"uid-{name}"}}


HTTP_8080 = {"name": "http", "port": 8080, "protocol": "TCP"}
NAMED = [{"name": "http", "port": 80, "targetPort": "web", "protocol": "TCP"}]

CASES: list[tuple[str, Object, list[Object], list[Object]]] = [
    ("no pods", service(), [], []),
    ("ready pods share one subset, sorted by ip",
     service(), [pod("b", "10.0.0.2"), pod("a", "10.0.0.1")],
     [{"addresses": [addr("a", "10.0.0.1"), addr("b", "10.0.0.2")], "ports": [HTTP_8080]}]),
    ("not ready goes to notReadyAddresses",
     service(), [pod("a", "10.0.0.1"), pod("b", "10.0.0.2", ready=False)],
     [{"addresses": [addr("a", "10.0.0.1")], "notReadyAddresses": [addr("b", "10.0.0.2")],
       "ports": [HTTP_8080]}]),
    ("publishNotReadyAddresses makes every pod an address",
     service(publishNotReadyAddresses=True), [pod("b", "10.0.0.2", ready=False)],
     [{"addresses": [addr("b", "10.0.0.2")], "ports": [HTTP_8080]}]),
    ("without an IP, terminating or finished: left out",
     service(), [pod("a"), pod("b", "10.0.0.2", deleting=True),
                 pod("c", "10.0.0.3", phase="Succeeded"),
                 pod("d", "10.0.0.4", phase="Failed", ready=False)], []),
    ("labels that do not match: left out",
     service(), [pod("a", "10.0.0.1", labels={"app": "other"})], []),
    ("a named targetPort is looked up per pod; different numbers, different subsets",
     service(NAMED),
     [pod("a", "10.0.0.1", container_ports=[{"name": "web", "containerPort": 8080}]),
      pod("b", "10.0.0.2", container_ports=[{"name": "web", "containerPort": 9090}]),
      pod("c", "10.0.0.3", container_ports=[{"name": "web", "containerPort": 8080}])],
     [{"addresses": [addr("a", "10.0.0.1"), addr("c", "10.0.0.3")], "ports": [HTTP_8080]},
      {"addresses": [addr("b", "10.0.0.2")],
       "ports": [{"name": "http", "port": 9090, "protocol": "TCP"}]}]),
    ("a pod without the named port, or with it under another protocol, is left out",
     service(NAMED),
     [pod("a", "10.0.0.1", container_ports=[{"name": "other", "containerPort": 8080}]),
      pod("b", "10.0.0.2", container_ports=[{"name": "web", "containerPort": 8080,
                                             "protocol": "UDP"}])], []),
    ("two ports: a pod serving only one gets a subset of its own",
     service([{"name": "http", "port": 80, "targetPort": "web", "protocol": "TCP"},
              {"name": "metrics", "port": 9100, "targetPort": 9100, "protocol": "TCP"}]),
     [pod("a", "10.0.0.1", container_ports=[{"name": "web", "containerPort": 8080}]),
      pod("b", "10.0.0.2")],
     [{"addresses": [addr("a", "10.0.0.1")],
       "ports": [HTTP_8080, {"name": "metrics", "port": 9100, "protocol": "TCP"}]},
      {"addresses": [addr("b", "10.0.0.2")],
       "ports": [{"name": "metrics", "port": 9100, "protocol": "TCP"}]}]),
    ("a headless Service without ports still lists its pods",
     service([], clusterIP="None"), [pod("a", "10.0.0.1")],
     [{"addresses": [addr("a", "10.0.0.1")]}]),
    ("hostname when the pod's subdomain is this Service (StatefulSet pods)",
     service(), [pod("web-0", "10.0.0.1", hostname="web-0", subdomain="web"),
                 pod("x-0", "10.0.0.2", hostname="x-0", subdomain="other")],
     [{"addresses": [addr("web-0", "10.0.0.1", hostname="web-0"), addr("x-0", "10.0.0.2")],
       "ports": [HTTP_8080]}]),
]


@pytest.mark.parametrize(("svc", "pods", "expected"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_compute_subsets(svc: Object, pods: list[Object], expected: list[Object]) -> None:
    assert compute_subsets(svc, pods) == expected


def test_compute_subsets_ignores_the_input_order() -> None:
    pods = [pod(n, f"10.0.0.{i}", ready=i % 2 == 0) for i, n in enumerate("abcdef", 1)]
    assert compute_subsets(service(), pods) == compute_subsets(service(), pods[::-1])


# -- the controller -----------------------------------------------------------------------------

def build(client: FakeClient, factory: Any, clock: Any) -> EndpointsController:
    return EndpointsController(client, factory, clock=clock)


def endpoints(subsets: list[Object], labels: dict[str, str] | None = None) -> Object:
    return obj("endpoints", "web", metadata={"labels": labels or {"team": "a"}},
               subsets=subsets)


def test_creates_the_endpoints_of_a_service() -> None:
    client = FakeClient([service(), pod("a", "10.0.0.1")])

    async def scenario() -> None:
        async with started(client, build) as (ctrl, _):
            await ctrl.reconcile("ns/web")
        ((verb, plural, name, body),) = client.actions
        assert (verb, plural, name) == ("create", "endpoints", "web")
        assert body["metadata"]["labels"] == {"team": "a"}
        assert body["subsets"] == [{"addresses": [addr("a", "10.0.0.1")],
                                    "ports": [HTTP_8080]}]
    run(scenario)


def test_a_selector_matching_nothing_gives_an_empty_subsets_list() -> None:
    client = FakeClient([service(selector={"app": "none"}), pod("a", "10.0.0.1")])

    async def scenario() -> None:
        async with started(client, build) as (ctrl, _):
            await ctrl.reconcile("ns/web")
        assert client.writes("create")[0][3]["subsets"] == []
    run(scenario)


def test_writes_nothing_when_the_endpoints_are_up_to_date() -> None:
    subsets = [{"addresses": [addr("a", "10.0.0.1")], "ports": [HTTP_8080]}]
    client = FakeClient([service(), pod("a", "10.0.0.1"), endpoints(subsets)])

    async def scenario() -> None:
        async with started(client, build) as (ctrl, _):
            await ctrl.reconcile("ns/web")
        assert client.actions == []
    run(scenario)


def test_updates_changed_endpoints_from_the_cached_object() -> None:
    client = FakeClient([service(clusterIP="None"), pod("a", "10.0.0.1", ready=False),
                         endpoints([{"addresses": [addr("a", "10.0.0.1")],
                                     "ports": [HTTP_8080]}])])

    async def scenario() -> None:
        async with started(client, build) as (ctrl, _):
            await ctrl.reconcile("ns/web")
        ((verb, _, _, body),) = client.actions
        assert verb == "update"
        assert body["metadata"]["resourceVersion"] == "1"
        assert body["metadata"]["labels"] == {"team": "a", "service.kubernetes.io/headless": ""}
        assert body["subsets"] == [{"notReadyAddresses": [addr("a", "10.0.0.1")],
                                    "ports": [HTTP_8080]}]
    run(scenario)


def test_services_without_a_selector_keep_their_user_managed_endpoints() -> None:
    client = FakeClient([service(selector={}), pod("a", "10.0.0.1"),
                         endpoints([{"addresses": [{"ip": "192.0.2.1"}]}])])

    async def scenario() -> None:
        async with started(client, build) as (ctrl, _):
            await ctrl.reconcile("ns/web")
        assert client.actions == []
    run(scenario)


def test_the_endpoints_go_with_their_service() -> None:
    client = FakeClient([endpoints([])])

    async def scenario() -> None:
        async with started(client, build) as (ctrl, _):
            await ctrl.reconcile("ns/web")
            await ctrl.reconcile("ns/web")  # already gone: NotFound is success
        assert [a[:3] for a in client.actions] == [("delete", "endpoints", "web")] * 2
    run(scenario)


def test_pod_events_enqueue_the_services_selecting_the_pod() -> None:
    other = obj("services", "other", spec={"selector": {"app": "other"}})
    client = FakeClient([service(), other])

    async def scenario() -> None:
        async with started(client, build) as (ctrl, _):
            while len(ctrl.queue):  # drop the initial adds of the services
                ctrl.queue.done(await ctrl.queue.get())
            before = pod("a", "10.0.0.1", labels={"app": "other"})
            after = pod("a", "10.0.0.1")
            after["metadata"]["resourceVersion"] = "2"
            ctrl._pod_updated(before, after)  # relabelled: both Services look again
            assert sorted([await ctrl.queue.get(), await ctrl.queue.get()]) == \
                ["ns/other", "ns/web"]
    run(scenario)


def test_an_endpoints_object_missing_from_the_cache_is_a_quiet_requeue() -> None:
    client = FakeClient([service()])
    client.fail("create", "endpoints", errors.already_exists("endpoints", "web"))

    async def scenario() -> None:
        async with started(client, build) as (ctrl, _):
            with pytest.raises(Requeue):
                await ctrl.reconcile("ns/web")
    run(scenario)
