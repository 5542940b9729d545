"""Leader election in the lab: two schedulers and two controller-managers, one leads each.

Both leaders are killed (`docker kill`, so no Lease is released); the standbys
must take over after the 15 s lease duration and keep the cluster working: a
new Deployment gets a ReplicaSet, pods, bindings and a Ready pod. The killed
containers are started again afterwards, as standbys.
"""

from __future__ import annotations

import time

from apimachinery.client import Client
from cli.cluster.processes import wait_for
from lab.testing import SchoonerCluster
from tests.lab.conftest import deployment, ready_pods

LEASES = {"kube-scheduler": "scheduler", "kube-controller-manager": "controller-manager"}
LEASE_DURATION, RETRY_PERIOD = 15.0, 2.0
TAKEOVER_BOUND = LEASE_DURATION + 2.2 * RETRY_PERIOD + 10.0  # slack for a loaded machine


def holder(client: Client, lease: str) -> str:
    spec = client.get("leases", lease, "kube-system").get("spec") or {}
    return str(spec.get("holderIdentity") or "")


def wait_for_holder(client: Client, lease: str, other_than: str, timeout: float) -> str:
    """The Lease's holder once it is someone, and not `other_than`."""
    def check() -> str:
        now = holder(client, lease)
        return now if now and now != other_than else ""
    return wait_for(check, timeout, f"a new holder of {lease}", 0.5)


def service_of(identity: str) -> str:
    """identity is `<hostname>_<uuid>`, and a lab container's hostname is its service."""
    return identity.rpartition("_")[0]


def test_standbys_take_over_when_the_leaders_are_killed(
        cluster: SchoonerCluster, client: Client, namespace: str) -> None:
    leaders = {lease: wait_for_holder(client, lease, "", 60) for lease in LEASES}
    killed = [service_of(identity) for identity in leaders.values()]
    for component, service in zip(LEASES.values(), killed, strict=True):
        assert service.startswith(component), leaders
    try:
        for service in killed:
            cluster.container(service).kill()
        start = time.monotonic()
        for lease, old in leaders.items():
            new = wait_for_holder(client, lease, old, TAKEOVER_BOUND + 5)
            assert service_of(new) != service_of(old), (old, new)
        took = time.monotonic() - start
        assert took <= TAKEOVER_BOUND, f"takeover took {took:.1f}s"
        created = time.monotonic()
        client.create("deployments", deployment("after-failover", 1), namespace)
        ready_pods(client, namespace, "after-failover", 1, timeout=120)
        print(f"\nkilled {', '.join(killed)}: both Leases held by a standby {took:.1f}s "
              f"after the kill; a new Deployment's pod Ready "
              f"{time.monotonic() - created:.1f}s after its create")
    finally:
        for service in killed:
            cluster.container(service).start()
