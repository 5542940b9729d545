"""The node IPAM controller on a fake client: the patches it sends, what it occupies and frees."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from apimachinery import errors
from apimachinery.meta import Object
from controllers.base import Requeue
from controllers.main import check_node_cidr_flags, enabled_controllers, parse_args
from controllers.nodeipam.controller import NodeIpamController, pod_cidrs
from tests.unit.controllers.controller_fakes import FakeClient, obj, run, started

LAB = {"cluster_cidr": "172.30.128.0/17", "node_cidr_mask_size": 24,
       "service_cidr": "172.30.255.0/24"}


def node(name: str, cidr: str | None = None, *, listed: bool = True) -> Object:
    spec: Object = {}
    if cidr:
        spec["podCIDR"] = cidr
        if listed:
            spec["podCIDRs"] = [cidr]
    return obj("nodes", name, spec=spec)


def builder(**flags: Any) -> Any:
    def build(client: FakeClient, factory: Any, clock: Any) -> NodeIpamController:
        return NodeIpamController(client, factory, clock=clock, **{**LAB, **flags})
    return build


def cidr_patch(cidr: str) -> Object:
    return {"spec": {"podCIDR": cidr, "podCIDRs": [cidr]}}


def test_a_node_without_a_cidr_gets_the_next_free_one_by_patch() -> None:
    client = FakeClient([node("n1"), node("n2", "172.30.128.0/24")])

    async def scenario() -> None:
        async with started(client, builder()) as (ctrl, _):
            await ctrl.reconcile("n1")  # n2's CIDR is counted before anything is handed out
        assert client.actions == [("patch", "nodes", "n1", cidr_patch("172.30.129.0/24"))]
    run(scenario)


def test_nodes_holding_cidrs_are_left_alone() -> None:
    client = FakeClient([node("n1", "172.30.130.0/24"),
                         node("n2", "172.30.131.0/24", listed=False)])

    async def scenario() -> None:
        async with started(client, builder()) as (ctrl, _):
            await ctrl.reconcile("n1")
            await ctrl.reconcile("n2")
            assert ctrl.cidrs.is_used("172.30.130.0/24") and ctrl.cidrs.is_used(
                "172.30.131.0/24")
        assert client.actions == []
    run(scenario)


def test_the_service_range_is_skipped() -> None:
    client = FakeClient([node("n1"), node("n2")])
    build = builder(cluster_cidr="10.0.0.0/23", service_cidr="10.0.0.0/24")

    async def scenario() -> None:
        async with started(client, build) as (ctrl, _):
            await ctrl.reconcile("n1")
            with pytest.raises(Requeue, match="no remaining CIDRs"):
                await ctrl.reconcile("n2")
        assert client.actions == [("patch", "nodes", "n1", cidr_patch("10.0.1.0/24"))]
    run(scenario)


def test_a_failed_patch_is_retried_with_the_same_cidr() -> None:
    client = FakeClient([node("n1")])
    client.fail("patch", "nodes", errors.ServiceUnavailable("apiserver unavailable"))

    async def scenario() -> None:
        async with started(client, builder()) as (ctrl, _):
            with pytest.raises(errors.ServiceUnavailable):
                await ctrl.reconcile("n1")
            await ctrl.reconcile("n1")  # the cache has not caught up: same CIDR again
        assert [a[3] for a in client.actions] == [cidr_patch("172.30.128.0/24")] * 2
    run(scenario)


def test_a_cidr_set_by_someone_else_first_frees_ours_and_is_occupied() -> None:
    client = FakeClient([node("n1")])
    client.fail("patch", "nodes", errors.Invalid(
        "Node", "n1", [errors.FieldError(
        "spec.podCIDR", 'node updates may not change podCIDR except from "" to valid',
        type="FieldValueForbidden")]))

    async def scenario() -> None:
        async with started(client, builder()) as (ctrl, _):
            with pytest.raises(Requeue):
                await ctrl.reconcile("n1")
            assert not ctrl.cidrs.is_used("172.30.128.0/24")
            ctrl.node_informer.store._put(node("n1", "172.30.200.0/24"))
            await ctrl.reconcile("n1")
            assert ctrl.cidrs.is_used("172.30.200.0/24")
        assert len(client.actions) == 1
    run(scenario)


def test_a_deleted_node_frees_its_cidr_and_a_waiting_node_gets_it() -> None:
    client = FakeClient([node("n1", "10.0.0.0/24"), node("n2")])
    build = builder(cluster_cidr="10.0.0.0/24", service_cidr="")

    async def scenario() -> None:
        async with started(client, build) as (ctrl, _):
            with pytest.raises(Requeue):
                await ctrl.reconcile("n2")  # full
            while len(ctrl.queue):  # drop the informer's initial adds
                ctrl.queue.done(await ctrl.queue.get())
            ctrl.node_informer.store._pop("n1")
            await ctrl.reconcile("n1")
            assert len(ctrl.queue) == 1  # n2, at once, not after its back-off
            key = await ctrl.queue.get()
            await ctrl.reconcile(key)
            ctrl.queue.done(key)
        assert client.actions == [("patch", "nodes", "n2", cidr_patch("10.0.0.0/24"))]
    run(scenario)


def test_a_cidr_held_twice_stays_used_until_both_nodes_are_gone() -> None:
    client = FakeClient([node("n1", "10.0.0.0/24"), node("n2", "10.0.0.0/24")])
    build = builder(cluster_cidr="10.0.0.0/23", service_cidr="")

    async def scenario() -> None:
        async with started(client, build) as (ctrl, _):
            ctrl.occupy_existing()
            ctrl.node_informer.store._pop("n1")
            await ctrl.reconcile("n1")
            assert ctrl.cidrs.is_used("10.0.0.0/24")
            ctrl.node_informer.store._pop("n2")
            await ctrl.reconcile("n2")
            assert not ctrl.cidrs.is_used("10.0.0.0/24")
    run(scenario)


def test_a_cidr_outside_the_cluster_cidr_is_ignored() -> None:
    client = FakeClient([node("n1", "192.0.2.0/24"), node("n2")])

    async def scenario() -> None:
        async with started(client, builder()) as (ctrl, _):
            await ctrl.reconcile("n1")
            await ctrl.reconcile("n2")
        assert client.actions == [("patch", "nodes", "n2", cidr_patch("172.30.128.0/24"))]
    run(scenario)


def test_a_full_range_records_cidr_not_available_on_the_node() -> None:
    client = FakeClient([node("n1", "10.0.0.0/24"), node("n2")])
    build = builder(cluster_cidr="10.0.0.0/24", service_cidr="")

    async def scenario() -> None:
        async with started(client, build) as (ctrl, _):
            worker = asyncio.create_task(ctrl.run())
            for _ in range(200):
                if client.writes("create"):
                    break
                await asyncio.sleep(0.01)
            ctrl.shut_down()
            await worker
        ((verb, plural, _, event),) = client.actions
        assert (verb, plural) == ("create", "events")
        assert (event["reason"], event["message"], event["type"]) == (
            "CIDRNotAvailable", "Node n2 status is now: CIDRNotAvailable", "Normal")
        assert event["involvedObject"]["kind"] == "Node"
        assert event["involvedObject"]["name"] == "n2"
        assert event["source"] == {"component": "cidrAllocator"}
    run(scenario)


def test_updates_enqueue_only_nodes_whose_cidr_matters() -> None:
    client = FakeClient([])

    async def scenario() -> None:
        async with started(client, builder()) as (ctrl, _):
            ctrl._node_updated(node("n1", "10.0.0.0/24"), node("n1", "10.0.0.0/24"))
            assert len(ctrl.queue) == 0  # a status heartbeat
            ctrl._node_updated(node("n1"), node("n1"))
            assert len(ctrl.queue) == 1
    run(scenario)


def test_pod_cidrs_reads_the_list_or_the_singular_field() -> None:
    assert pod_cidrs(node("n", "10.0.0.0/24")) == ("10.0.0.0/24",)
    assert pod_cidrs(node("n", "10.0.0.0/24", listed=False)) == ("10.0.0.0/24",)
    assert pod_cidrs(node("n")) == ()


def test_nodeipam_runs_only_with_allocate_node_cidrs() -> None:
    names = ["replicaset", "nodeipam"]
    assert enabled_controllers(names, parse_args([])) == ["replicaset"]
    args = parse_args(["--allocate-node-cidrs", "--cluster-cidr", "172.30.128.0/17",
                       "--service-cluster-ip-range", "172.30.255.0/24"])
    assert enabled_controllers(names, args) == names
    assert args.node_cidr_mask_size == 24
    check_node_cidr_flags(args)
    check_node_cidr_flags(parse_args(["--cluster-cidr", "bad"]))  # not allocating: unused
    for bad, message in ((["--allocate-node-cidrs"], "needs --cluster-cidr"),
                         (["--allocate-node-cidrs", "--cluster-cidr", "10.0.0.0/16",
                           "--node-cidr-mask-size", "8"], "must be between"),
                         (["--allocate-node-cidrs", "--cluster-cidr", "10.0.0.0/16",
                           "--service-cluster-ip-range", "x"], "does not appear")):
        with pytest.raises(ValueError, match=message):
            check_node_cidr_flags(parse_args(bad))
