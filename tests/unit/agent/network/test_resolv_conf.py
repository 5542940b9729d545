"""Pod DNS: the resolv.conf per dnsPolicy and dnsConfig, and how it reaches the containers."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from agent.network.resolv_conf import ClusterDNS, resolv_conf, write_resolv_conf
from agent.podsync.backoff import Backoff
from agent.podsync.images import ImageManager
from agent.podsync.pod_sync import PodSyncer
from agent.runtime.container import Mount
from apimachinery.clock import FakeClock
from apimachinery.events import EventRecorder
from apimachinery.meta import Object
from tests.unit.agent.fakes import FakeClient, FakeRuntime
from tests.unit.agent.helpers import NOW, UID, make_pod

CLUSTER = ClusterDNS(("172.30.255.10",), "cluster.local")
CLUSTER_FIRST = ("nameserver 172.30.255.10\n"
                 "search ns.svc.cluster.local svc.cluster.local cluster.local\n"
                 "options ndots:5\n")


def pod_with(**spec: Any) -> Object:
    pod = make_pod("a")
    pod["spec"].update(spec)
    return pod


@pytest.mark.parametrize(("spec", "expected"), [
    ({}, CLUSTER_FIRST),
    ({"dnsPolicy": "ClusterFirst"}, CLUSTER_FIRST),
    ({"dnsPolicy": "ClusterFirstWithHostNet", "hostNetwork": True}, CLUSTER_FIRST),
    ({"dnsPolicy": "ClusterFirst", "hostNetwork": True}, None),  # the host's, as kubelet
    ({"dnsPolicy": "Default"}, None),
    ({"dnsConfig": {"nameservers": ["192.0.2.53"], "searches": ["example.org"],
                    "options": [{"name": "ndots", "value": "2"}, {"name": "edns0"}]}},
     "nameserver 172.30.255.10\nnameserver 192.0.2.53\n"
     "search ns.svc.cluster.local svc.cluster.local cluster.local example.org\n"
     "options ndots:2 edns0\n"),
    ({"dnsPolicy": "None", "dnsConfig": {"nameservers": ["192.0.2.53"],
                                          "searches": ["a.example", "a.example"]}},
     "nameserver 192.0.2.53\nsearch a.example\n"),
], ids=["default-policy", "cluster-first", "with-host-net", "host-network", "Default",
        "dns-config-merged", "None"])
def test_resolv_conf(spec: Object, expected: str | None) -> None:
    assert resolv_conf(pod_with(**spec), CLUSTER) == expected


def test_cluster_first_without_cluster_dns_keeps_dockers() -> None:
    assert resolv_conf(pod_with(), ClusterDNS()) is None
    assert resolv_conf(pod_with(dnsPolicy="None", dnsConfig={"nameservers": ["192.0.2.1"]}),
                       ClusterDNS()) == "nameserver 192.0.2.1\n"


def test_kubelets_limits() -> None:
    many = {"nameservers": [f"192.0.2.{i}" for i in range(1, 6)],
            "searches": [f"d{i}.example" for i in range(40)]}
    text = resolv_conf(pod_with(dnsConfig=many), CLUSTER)
    assert text is not None
    lines = text.splitlines()
    assert [line for line in lines if line.startswith("nameserver")] == [
        "nameserver 172.30.255.10", "nameserver 192.0.2.1", "nameserver 192.0.2.2"]
    assert len(lines[3].split()) - 1 == 32


def test_another_domain_and_namespace() -> None:
    pod = pod_with()
    pod["metadata"]["namespace"] = "shop"
    text = resolv_conf(pod, ClusterDNS(("10.0.0.10", "10.0.0.11"), "corp.internal"))
    assert text == ("nameserver 10.0.0.10\nnameserver 10.0.0.11\n"
                    "search shop.svc.corp.internal svc.corp.internal corp.internal\n"
                    "options ndots:5\n")


def test_an_unchanged_file_is_not_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "pods" / UID / "resolv.conf"
    write_resolv_conf(path, CLUSTER_FIRST)
    inode = path.stat().st_ino
    write_resolv_conf(path, CLUSTER_FIRST)
    assert path.stat().st_ino == inode  # running containers keep seeing the same file
    write_resolv_conf(path, "nameserver 10.0.0.10\n")
    assert path.read_text() == "nameserver 10.0.0.10\n"
    assert oct(path.stat().st_mode & 0o777) == "0o644"


def syncer(tmp_path: Path, pod: Object, runtime: FakeRuntime, clock: FakeClock) -> PodSyncer:
    client = FakeClient()
    recorder = EventRecorder(client, "kubelet", clock, host="n1")  # type: ignore[arg-type]
    return PodSyncer(
        client=client, runtime=runtime, recorder=recorder,  # type: ignore[arg-type]
        images=ImageManager(runtime, recorder, Backoff(clock), clock),
        backoff=Backoff(clock), clock=clock, pod_by_uid=lambda uid: pod,
        node_ip="192.0.2.10", root_dir=tmp_path, sandbox_image="schooner/busybox:latest",
        cluster_dns=CLUSTER)


def test_the_sandbox_and_every_container_bind_the_pods_resolv_conf(tmp_path: Path) -> None:
    clock = FakeClock(wall=NOW)
    runtime = FakeRuntime(clock)
    pod = make_pod("a", "b")
    asyncio.run(syncer(tmp_path, pod, runtime, clock).sync(UID))
    path = tmp_path / "pods" / UID / "resolv.conf"
    assert path.read_text() == CLUSTER_FIRST
    mount = Mount("bind", str(path), "/etc/resolv.conf", read_only=True)
    assert [(s.labels["schooner.container.name"], s.mounts[:1]) for s in runtime.specs] == [
        ("POD", (mount,)), ("a", (mount,)), ("b", (mount,))]
    assert [m.target for s in runtime.specs for m in s.mounts[1:]] == [
        "/dev/termination-log"] * 2  # the app containers' termination-message files


def test_a_container_mounting_its_own_resolv_conf_keeps_it(tmp_path: Path) -> None:
    clock = FakeClock(wall=NOW)
    runtime = FakeRuntime(clock)
    pod = make_pod("a")
    pod["spec"]["volumes"] = [{"name": "dns", "hostPath": {"path": str(tmp_path / "mine")}}]
    pod["spec"]["containers"][0]["volumeMounts"] = [{"name": "dns",
                                                     "mountPath": "/etc/resolv.conf"}]
    asyncio.run(syncer(tmp_path, pod, runtime, clock).sync(UID))
    assert runtime.specs[1].mounts[0] == Mount("bind", str(tmp_path / "mine"),
                                               "/etc/resolv.conf")
    assert [m.target for m in runtime.specs[1].mounts] == ["/etc/resolv.conf",
                                                          "/dev/termination-log"]


def test_policy_default_adds_no_mount(tmp_path: Path) -> None:
    clock = FakeClock(wall=NOW)
    runtime = FakeRuntime(clock)
    pod = pod_with(dnsPolicy="Default")
    asyncio.run(syncer(tmp_path, pod, runtime, clock).sync(UID))
    assert [[m.target for m in s.mounts] for s in runtime.specs] == [
        [], ["/dev/termination-log"]]
    assert not (tmp_path / "pods" / UID / "resolv.conf").exists()
