"""etcd faults under a running apiserver: a member killed, a member frozen, etcd restarted.

A 3-member etcd cluster on loopback ports, private as every etcd Schooner runs
(TLS with client certificates on client and peer ports), an apiserver given all
three and its etcd client certificate. A
probe creates a ConfigMap 20 times a second while a watch stays open; the
member the apiserver uses (made etcd's leader first, the worst case) is then
killed with SIGKILL, or frozen with SIGSTOP and thawed. Checked: the longest
gap between successful writes (target <= 5 s), and that the watch saw every
ConfigMap of the final list exactly once and nothing else. Then a single etcd
killed and started again: /readyz is 503 naming the etcd check while it is
gone, /livez stays 200, and the apiserver reconnects by itself.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from cli.cluster.processes import Apiserver, Etcd, EtcdCluster, wait_for

pytestmark = pytest.mark.chaos

RATE = 20.0  # probe writes per second
MAX_GAP = 5.0  # the target for the longest gap between successful writes


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[tuple[EtcdCluster, Apiserver]]:
    """Three etcd members over TLS and an apiserver given all three, all this test's own."""
    etcd = EtcdCluster(tmp_path / "etcd", tls=True).start()
    server = Apiserver(tmp_path / "apiserver", etcd.url, etcd_tls=etcd.client_tls)
    try:
        server.start()
        yield etcd, server
    finally:
        server.stop()
        etcd.stop()


def status(member: Etcd) -> dict[str, Any]:
    with member.http() as http:
        return dict(http.post("/v3/maintenance/status", json={}).json())


def member_id(member: Etcd) -> str:
    return str(status(member)["header"]["member_id"])


def leader_id(member: Etcd) -> str:
    return str(status(member)["leader"])


def make_leader(etcd: EtcdCluster, target: Etcd) -> None:
    """Move etcd's leadership to `target` (etcd's MoveLeader, sent to the current leader)."""
    want = member_id(target)

    def moved() -> bool:
        current = leader_id(target)
        if current == want:
            return True
        leader = next(m for m in etcd.members if member_id(m) == current)
        with leader.http(timeout=10) as http:
            http.post("/v3/maintenance/transfer-leadership", json={"targetID": want})
        return leader_id(target) == want

    wait_for(moved, 20, f"etcd leadership to move to {target.name}", interval=0.5)


@dataclass
class WriteProbe:
    """Creates ConfigMap probe-N at RATE per second; records when each write succeeded."""

    server: Apiserver
    namespace: str
    successes: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with self.server.http() as http:
            n = 0
            while not self.stop.is_set():
                started = time.monotonic()
                n += 1
                try:
                    r = http.post(f"/api/v1/namespaces/{self.namespace}/configmaps",
                                  json={"metadata": {"name": f"probe-{n}"},
                                        "data": {"n": str(n)}}, timeout=15)
                    if r.status_code == 201:
                        self.successes.append(time.monotonic())
                    else:
                        self.failures.append(f"{r.status_code} {r.text[:120]}")
                except httpx.HTTPError as exc:
                    self.failures.append(repr(exc))
                time.sleep(max(0.0, 1 / RATE - (time.monotonic() - started)))

    def longest_gap(self) -> float:
        times = self.successes
        return max((b - a for a, b in itertools.pairwise(times)), default=0.0)


@dataclass
class WatchRecorder:
    """One watch on the namespace's ConfigMaps, held open; every event it delivers."""

    server: Apiserver
    namespace: str
    resource_version: str
    events: list[tuple[str, str]] = field(default_factory=list)
    streams: int = 0
    answers: list[str] = field(default_factory=list)  # status of each stream opened
    opened: threading.Event = field(default_factory=threading.Event)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        """Watch until told to stop; a stream the server ends is resumed from its last
        resourceVersion (as client-go does) and counted, so the test can tell."""
        rv = self.resource_version
        with self.server.http() as http:
            while not self.stop.is_set():
                self.streams += 1
                try:
                    with http.stream("GET", f"/api/v1/namespaces/{self.namespace}/configmaps",
                                     params={"watch": "1", "resourceVersion": rv,
                                             "timeoutSeconds": "300"},
                                     timeout=httpx.Timeout(10, read=None)) as r:
                        self.answers.append(f"{r.status_code} rv={rv}")
                        if r.status_code == 200:
                            self.opened.set()
                        if r.status_code != 200:  # e.g. a 503 while etcd is away: retry,
                            time.sleep(0.2)       # as client-go's reflector does
                            continue
                        for line in r.iter_lines():
                            event = json.loads(line)
                            obj = event["object"]
                            rv = obj.get("metadata", {}).get("resourceVersion", rv)
                            self.events.append((event["type"], obj["metadata"].get("name", "")))
                except httpx.HTTPError as exc:
                    self.answers.append(repr(exc))
                    time.sleep(0.2)

    def added(self) -> list[str]:
        return [name for kind, name in self.events if kind == "ADDED"]


def run_fault(server: Apiserver, fault: str, inject: Callable[[], None],
              heal: Callable[[], None] | None) -> tuple[WriteProbe, WatchRecorder]:
    """Probe and watch for 3 s, inject the fault, keep going 8 s (healing after 6), stop."""
    ns = f"chaos-{fault}"
    with server.http() as http:
        http.post("/api/v1/namespaces", json={"metadata": {"name": ns}}).raise_for_status()
        rv = http.get(f"/api/v1/namespaces/{ns}/configmaps").json()["metadata"][
            "resourceVersion"]
    probe, watch = WriteProbe(server, ns), WatchRecorder(server, ns, rv)
    threads = [threading.Thread(target=probe.run, daemon=True),
               threading.Thread(target=watch.run, daemon=True)]
    for t in threads:
        t.start()
    try:
        time.sleep(3)
        injected = time.monotonic()
        inject()
        if heal is not None:
            time.sleep(6)
            heal()
        time.sleep(max(0.0, injected + 9 - time.monotonic()))
    finally:
        probe.stop.set()
        threads[0].join(30)
    return probe, watch


def check_exactly_once(server: Apiserver, probe: WriteProbe, watch: WatchRecorder) -> None:
    """The watch saw each ConfigMap of the final list once, and nothing else."""
    with server.http() as http:
        listed = sorted(i["metadata"]["name"] for i in http.get(
            f"/api/v1/namespaces/{probe.namespace}/configmaps").json()["items"])
    try:
        wait_for(lambda: sorted(watch.added()) == listed, 15,
                 "the watch to catch up with the final list", interval=0.2)
    finally:
        watch.stop.set()
    added = watch.added()
    assert len(added) == len(set(added)), "a watch event was delivered twice"
    assert sorted(added) == listed
    assert {kind for kind, _ in watch.events} == {"ADDED"}, watch.events
    assert len(probe.successes) <= len(listed)


def report(fault: str, probe: WriteProbe, watch: WatchRecorder) -> None:
    print(f"\n{fault}: writes ok={len(probe.successes)} failed={len(probe.failures)} "
          f"longest gap={probe.longest_gap():.2f}s watch events={len(watch.events)} "
          f"watch streams={watch.streams} failures={probe.failures[:3]}")


@pytest.mark.parametrize("fault", ["kill", "freeze"])
def test_member_loss_keeps_writes_and_watch_whole(
        cluster: tuple[EtcdCluster, Apiserver], fault: str) -> None:
    etcd, server = cluster
    # The apiserver uses the first member that answers: member1. Make it the leader
    # too, so its loss also costs an election.
    victim = etcd.members[0]
    make_leader(etcd, victim)
    if fault == "kill":
        probe, watch = run_fault(server, fault, victim.kill, None)
    else:
        probe, watch = run_fault(server, fault, victim.freeze, victim.thaw)
    report(fault, probe, watch)
    check_exactly_once(server, probe, watch)
    assert probe.longest_gap() <= MAX_GAP, (probe.longest_gap(), probe.failures)
    assert watch.streams == 1, "the apiserver ended the watch instead of failing over"
    # 12 s of probing at RATE; a fault may cost seconds, not most of the run.
    assert len(probe.successes) >= RATE * 6, "the probe wrote far too little"


def test_etcd_restart_under_apiserver(tmp_path: Path) -> None:
    """`schooner up`'s case: one etcd, killed and started again under a running apiserver."""
    etcd = Etcd(tmp_path / "etcd", tls=True).start()
    server = Apiserver(tmp_path / "apiserver", etcd.url, etcd_tls=etcd.client_tls)
    try:
        server.start()
        with server.http() as http:
            rv = http.get("/api/v1/namespaces/default/configmaps").json()["metadata"][
                "resourceVersion"]
            watch = WatchRecorder(server, "default", rv)
            thread = threading.Thread(target=watch.run, daemon=True)
            thread.start()
            # Opened before the outage, as the test says (the headers come at once).
            assert watch.opened.wait(10), f"the watch did not open: {watch.answers}"
            etcd.kill()
            killed = time.monotonic()
            not_ready = wait_for(lambda: (r := http.get("/readyz")).status_code == 503 and r,
                                 10, "readyz to say etcd is gone")
            gone = time.monotonic() - killed
            assert "[-]etcd failed" in not_ready.text, not_ready.text
            assert not_ready.text.rstrip().endswith("readyz check failed")
            assert http.get("/livez").status_code == 200
            down = http.post("/api/v1/namespaces/default/configmaps",
                             json={"metadata": {"name": "while-down"}})
            assert down.status_code == 503, down.text
            # A client that starts watching during the outage retries through the
            # 503s (as client-go's reflector does) and must see the same write.
            late = WatchRecorder(server, "default", rv)
            threading.Thread(target=late.run, daemon=True).start()
            time.sleep(5)  # long enough for every reconnect back-off to have grown
            etcd.start()
            back = time.monotonic()
            wait_for(lambda: http.get("/readyz").status_code == 200, 15,
                     "readyz to say ready again")
            print(f"\nrestart: readyz 503 {gone:.2f}s after the kill, 200 "
                  f"{time.monotonic() - back:.2f}s after etcd was healthy again")
            created = http.post("/api/v1/namespaces/default/configmaps",
                                json={"metadata": {"name": "after-restart"}})
            assert created.status_code == 201, created.text
            for recorder, opened in ((watch, "before"), (late, "during")):
                try:
                    wait_for(lambda r=recorder: "after-restart" in r.added(), 15,
                             f"the watch opened {opened} the outage to see a write after it")
                except AssertionError as exc:
                    raise AssertionError(f"{exc} (its streams: {recorder.answers}, "
                                         f"events: {recorder.events})") from None
                finally:
                    recorder.stop.set()
    finally:
        server.stop()
        etcd.stop()
