"""The node's heartbeat Lease in `kube-node-lease` (kubelet's nodelease controller).

Every `renew_interval` (5 s) the agent sets `spec.renewTime` of the Lease
named after its node, holder = the node, `leaseDurationSeconds` 20, owned by
the Node object so it goes when the Node goes. The last Lease written is
reused for the next update, as the kubelet does, so a renewal is one PUT; a
conflict or a missing Lease falls back to a fresh GET or a create.

A renewal's requests time out after `HEARTBEAT_TIMEOUT` (the kubelet's heartbeat
client has a timeout of its own, its renew interval), and a renewal that found no
apiserver is tried once more at once: a frozen apiserver then costs one timeout,
the client moves to its next URL, and the renewal gets through there well inside
the controller-manager's 15 s grace instead of after the client's 30 s timeout.
"""

from __future__ import annotations

import logging

from apimachinery import errors
from apimachinery.client import AsyncClient, request_timeout
from apimachinery.clock import Clock
from apimachinery.meta import Object

log = logging.getLogger(__name__)

LEASE_NAMESPACE = "kube-node-lease"
# Kubernetes' kubelet: a 40 s lease renewed every 10 s (a quarter of it). Schooner's
# node lifecycle controller gives a node 15 s (--node-monitor-grace-period), so the
# lease is 20 s, renewed every 5 s: a node must miss two renewals to look dead.
LEASE_DURATION_SECONDS = 20
RENEW_INTERVAL_SECONDS = LEASE_DURATION_SECONDS / 4
# Half the renew interval: a renewal is one small PUT, answered in milliseconds.
HEARTBEAT_TIMEOUT = RENEW_INTERVAL_SECONDS / 2


def micro_time(clock: Clock) -> str:
    """metav1.MicroTime: RFC 3339 with microseconds."""
    return clock.now().strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class LeaseRenewer:
    def __init__(self, client: AsyncClient, clock: Clock, node_name: str,
                 node_uid: str = "") -> None:
        self.client, self.clock = client, clock
        self.node_name, self.node_uid = node_name, node_uid
        self._lease: Object | None = None

    def _new_lease(self) -> Object:
        meta: Object = {"name": self.node_name, "namespace": LEASE_NAMESPACE}
        if self.node_uid:
            meta["ownerReferences"] = [{"apiVersion": "v1", "kind": "Node",
                                        "name": self.node_name, "uid": self.node_uid}]
        return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": meta,
                "spec": {"holderIdentity": self.node_name,
                         "leaseDurationSeconds": LEASE_DURATION_SECONDS,
                         "renewTime": micro_time(self.clock)}}

    def _renewed(self, lease: Object) -> Object:
        updated = {**lease, "spec": {**(lease.get("spec") or {}),
                                     "holderIdentity": self.node_name,
                                     "leaseDurationSeconds": LEASE_DURATION_SECONDS,
                                     "renewTime": micro_time(self.clock)}}
        return updated

    async def renew(self) -> Object:
        """One renewal; raises the API error if even the fallback fails."""
        if self._lease is not None:
            try:
                self._lease = await self.client.update("leases", self._renewed(self._lease))
                return self._lease
            except (errors.Conflict, errors.NotFound):
                self._lease = None
        try:
            current = await self.client.get("leases", self.node_name, LEASE_NAMESPACE)
        except errors.NotFound:
            self._lease = await self.client.create("leases", self._new_lease(),
                                                   LEASE_NAMESPACE)
            return self._lease
        self._lease = await self.client.update("leases", self._renewed(current))
        return self._lease

    async def run(self, interval: float = RENEW_INTERVAL_SECONDS) -> None:
        """Renew now and every `interval` seconds until cancelled."""
        while True:
            await self.heartbeat()
            await self.clock.sleep(interval)

    async def heartbeat(self) -> bool:
        """One renewal within `HEARTBEAT_TIMEOUT` a request, and once more at once if no
        apiserver answered (the client has moved on to its next URL by then)."""
        for attempt in (1, 2):
            try:
                with request_timeout(HEARTBEAT_TIMEOUT):
                    await self.renew()
                return True
            except errors.Unreachable as exc:
                log.warning("component=agent lease renewal failed node=%s attempt=%d "
                            "error=%s", self.node_name, attempt, exc.message)
            except errors.APIError as exc:
                log.warning("component=agent lease renewal failed node=%s error=%s",
                            self.node_name, exc.message)
                return False
        return False
