"""Node status and the Lease's time format."""

from __future__ import annotations

from agent.nodestatus.lease import micro_time
from agent.nodestatus.node_status import HostFacts, memory_kib, node_status
from apimachinery.clock import FakeClock
from tests.unit.agent.helpers import NOW

FACTS = HostFacts(hostname="host1", cpus=4, memory_kib=8_000_000, ephemeral_bytes=10**11,
                  os_image="Debian GNU/Linux 12 (bookworm)", kernel_version="6.1.0",
                  architecture="amd64")


def test_node_status() -> None:
    status = node_status(FACTS, node_ip="192.0.2.10", port=10250,
                         runtime_version="20.10.24", now=NOW)
    assert status["capacity"] == {"cpu": "4", "memory": "8000000Ki",
                                  "ephemeral-storage": str(10**11), "pods": "110"}
    assert status["allocatable"] == status["capacity"]
    assert status["addresses"] == [{"type": "InternalIP", "address": "192.0.2.10"},
                                   {"type": "Hostname", "address": "host1"}]
    assert status["daemonEndpoints"] == {"kubeletEndpoint": {"Port": 10250}}
    info = status["nodeInfo"]
    assert info["containerRuntimeVersion"] == "docker://20.10.24"
    assert info["kubeletVersion"] == "v1.32.0-schooner"
    ready = {c["type"]: c for c in status["conditions"]}["Ready"]
    assert (ready["status"], ready["reason"]) == ("True", "KubeletReady")
    later = node_status(FACTS, node_ip="192.0.2.10", port=10250, runtime_version="20.10.24",
                        now=NOW.replace(minute=5), old=status)
    again = {c["type"]: c for c in later["conditions"]}["Ready"]
    assert again["lastTransitionTime"] == ready["lastTransitionTime"]
    assert again["lastHeartbeatTime"] == "2024-01-01T12:05:00Z"


def test_meminfo_and_micro_time() -> None:
    assert memory_kib("MemTotal:       24683656 kB\nMemFree: 1 kB\n") == 24683656
    assert micro_time(FakeClock(wall=NOW)) == "2024-01-01T12:00:00.000000Z"


def test_node_status_reports_claim_volumes_as_volumes_attached() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 1, 1, tzinfo=UTC)
    status = node_status(FACTS, node_ip="192.0.2.10", port=10250, runtime_version="20.10.24",
                         now=now, claims=[("db", "data-pg-0", "schooner-pvc-db-data-pg-0")])
    assert status["volumesAttached"] == [{"name": "schooner.io/pvc/db/data-pg-0",
                                          "devicePath": "schooner-pvc-db-data-pg-0"}]
    # Written even when empty, so a merge patch clears what the node no longer holds.
    empty = node_status(FACTS, node_ip="192.0.2.10", port=10250, runtime_version="20.10.24",
                        now=now, claims=[])
    assert empty["volumesAttached"] == []
    unknown = node_status(FACTS, node_ip="192.0.2.10", port=10250, runtime_version="20.10.24",
                          now=now)
    assert "volumesAttached" not in unknown
