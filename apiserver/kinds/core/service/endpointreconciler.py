"""The lease endpoint reconciler: `default/kubernetes` lists the apiservers alive now.

Kubernetes' `--endpoint-reconciler-type=lease` (pkg/controlplane/reconcilers/lease.go):
every apiserver keeps a record of its advertise address in etcd with a TTL
(`/registry/masterleases/<IP>`, 15 s), renews it every 10 s, and then writes the
`kubernetes` Service's Endpoints (one subset: every address that has a record,
port `https` = the secure port, labelled `endpointslice.kubernetes.io/skip-mirror:
"true"` so the mirroring controller leaves it alone) and the EndpointSlice
`kubernetes` (label `kubernetes.io/service-name: kubernetes` and no managed-by, as
Kubernetes' EndpointsAdapter writes it, so neither the endpointslice controller nor
the mirroring controller claims it). An apiserver killed with -9 stops renewing;
etcd drops its record after the TTL and the next reconcile of a live apiserver
drops its address. One that stops cleanly removes its record and rewrites both at
once (Kubernetes' RemoveEndpoints in the pre-shutdown hook). The last apiserver
never writes an empty list: with no record left, it leaves them as they are.

What to write is decided by pure functions of plain objects (`desired_endpoints`,
`desired_slice`, `needs_write`); `EndpointReconciler` does the I/O through the
registry (so validation runs: a loopback address is refused there, as in
Kubernetes) and through `MasterLeases`, which the tests replace with fakes.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
from typing import Protocol

from apimachinery import errors
from apimachinery.meta import Object
from apimachinery.resources import ResourceInfo
from apimachinery.specialip import special_ip_problems
from apiserver.config import ServerConfig
from apiserver.kinds.core.service.masterleases import MasterLeases
from apiserver.registry import Registry

log = logging.getLogger("apiserver")

NAMESPACE, NAME = "default", "kubernetes"
PORT_NAME = "https"
SKIP_MIRROR_LABEL = "endpointslice.kubernetes.io/skip-mirror"
SERVICE_NAME_LABEL = "kubernetes.io/service-name"
# Kubernetes' DefaultEndpointReconcilerTTL and EndpointInterval.
LEASE_TTL = 15
RECONCILE_INTERVAL = 10.0
_REMOVE_ATTEMPTS = 3


class Leases(Protocol):
    """The apiservers' address records (masterleases.py; a fake in unit tests)."""

    async def update(self, ip: str) -> None: ...

    async def list(self) -> list[str]: ...

    async def remove(self, ip: str) -> None: ...


class Objects(Protocol):
    """The registry's calls the reconciler makes (a recording fake in unit tests)."""

    async def get(self, resource: ResourceInfo, namespace: str | None, name: str) -> Object: ...

    async def create(self, resource: ResourceInfo, namespace: str | None,
                     body: Object) -> Object: ...

    async def update(self, resource: ResourceInfo, namespace: str | None, name: str,
                     body: Object, *, subresource: str | None = None) -> Object: ...


def _sorted_ips(ips: list[str]) -> list[str]:
    return sorted(set(ips), key=ipaddress.ip_address)


def desired_endpoints(ips: list[str], port: int) -> Object:
    """The Endpoints `kubernetes`: one subset, the addresses sorted, port `https`."""
    return {"apiVersion": "v1", "kind": "Endpoints",
            "metadata": {"name": NAME, "namespace": NAMESPACE,
                         "labels": {SKIP_MIRROR_LABEL: "true"}},
            "subsets": [{"addresses": [{"ip": ip} for ip in _sorted_ips(ips)],
                         "ports": [{"name": PORT_NAME, "port": port, "protocol": "TCP"}]}]}


def desired_slice(ips: list[str], port: int) -> Object:
    """The EndpointSlice `kubernetes`, as Kubernetes' endpointSliceFromEndpoints makes it
    from the Endpoints above: every address ready, IPv6 when all of them are."""
    ordered = _sorted_ips(ips)
    ipv6 = bool(ordered) and all(ipaddress.ip_address(ip).version == 6 for ip in ordered)
    return {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": {"name": NAME, "namespace": NAMESPACE,
                         "labels": {SERVICE_NAME_LABEL: NAME}},
            "addressType": "IPv6" if ipv6 else "IPv4",
            "endpoints": [{"addresses": [ip], "conditions": {"ready": True}}
                          for ip in ordered],
            "ports": [{"name": PORT_NAME, "port": port, "protocol": "TCP"}]}


_COMPARED = ("subsets", "addressType", "endpoints", "ports")


def needs_write(current: Object | None, desired: Object) -> bool:
    """Whether `current` differs from `desired` in its data or its labels (Kubernetes'
    reconciler sets the labels whole: one someone added or removed is undone)."""
    if current is None:
        return True
    if ((current.get("metadata") or {}).get("labels") or {}) != desired["metadata"]["labels"]:
        return True
    return any(current.get(k) != desired.get(k) for k in _COMPARED if k in desired)


def merged(current: Object, desired: Object) -> Object:
    """`desired` written over `current`, whose other metadata (resourceVersion, uid,
    annotations) stays."""
    body = {**current, **{k: v for k, v in desired.items() if k != "metadata"}}
    body["metadata"] = {**(current.get("metadata") or {}),
                        "labels": dict(desired["metadata"]["labels"])}
    return body


class EndpointReconciler:
    """Renews this apiserver's record and keeps the Endpoints and the slice of `kubernetes`.

    `endpoints` and `slices` are the two kinds' resources (reached through the registry:
    a kind imports no other). Two apiservers writing at once is normal: the loser's
    Conflict (or AlreadyExists) waits for the next round, which reads the winner's write.
    """

    def __init__(self, objects: Objects, leases: Leases, ip: str, port: int, *,
                 endpoints: ResourceInfo, slices: ResourceInfo,
                 interval: float = RECONCILE_INTERVAL) -> None:
        self._objects = objects
        self._leases = leases
        self.ip = ip
        self.port = port
        self._endpoints = endpoints
        self._slices = slices
        self._interval = interval
        self._task: asyncio.Task[None] | None = None
        self._stopped = False

    async def reconcile(self) -> None:
        """ReconcileEndpoints: renew this apiserver's record, then write what differs."""
        await self._leases.update(self.ip)
        await self._write(await self._leases.list())

    async def remove(self) -> None:
        """RemoveEndpoints: drop this apiserver's record and its address, now."""
        await self._leases.remove(self.ip)
        await self._write(await self._leases.list())

    async def _write(self, ips: list[str]) -> None:
        if not ips:
            # Kubernetes' doReconcile: "no API server IP addresses were listed in storage,
            # refusing to erase all endpoints for the kubernetes Service".
            log.warning("component=apiserver no apiserver address is recorded: "
                        "leaving endpoints default/kubernetes as they are")
            return
        await self._sync(self._endpoints, desired_endpoints(ips, self.port))
        await self._sync(self._slices, desired_slice(ips, self.port))

    async def _sync(self, resource: ResourceInfo, desired: Object) -> None:
        try:
            current: Object | None = await self._objects.get(resource, NAMESPACE, NAME)
        except errors.NotFound:
            current = None
        if not needs_write(current, desired):
            return
        if current is None:
            await self._objects.create(resource, NAMESPACE, desired)
        else:
            await self._objects.update(resource, NAMESPACE, NAME, merged(current, desired))
        log.info("component=apiserver reconciled %s default/kubernetes addresses=%s",
                 resource.plural, ",".join(_addresses(desired)))

    # -- the loop --------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="endpoint-reconciler")

    async def _run(self) -> None:
        while True:
            try:
                await self.reconcile()
            except (errors.Conflict, errors.AlreadyExists):
                pass  # another apiserver wrote in between: the next round sees its write
            except errors.APIError as exc:
                log.warning("component=apiserver endpoint reconcile failed ip=%s: %s",
                            self.ip, exc.message)
            except Exception:  # the loop must outlive any one failure
                log.exception("component=apiserver endpoint reconcile failed ip=%s", self.ip)
            await asyncio.sleep(self._interval)

    async def stop(self, *, remove: bool = True) -> None:
        """Stop the loop and (once) take this apiserver out of the Endpoints: a clean stop."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if remove and not self._stopped:
            self._stopped = True
            await self._remove_now()

    async def _remove_now(self) -> None:
        """`remove`, again after a race with another apiserver's write (a few times: a
        stopping apiserver must not linger), logged when it cannot be done."""
        for attempt in range(1, _REMOVE_ATTEMPTS + 1):
            try:
                await self.remove()
                log.info("component=apiserver removed %s from endpoints default/kubernetes",
                         self.ip)
                return
            except (errors.Conflict, errors.AlreadyExists) as exc:
                if attempt == _REMOVE_ATTEMPTS:
                    log.warning("component=apiserver could not remove %s from endpoints "
                                "default/kubernetes: %s", self.ip, exc.message)
            except errors.APIError as exc:
                log.warning("component=apiserver could not remove %s from endpoints "
                            "default/kubernetes: %s", self.ip, exc.message)
                return


def _addresses(obj: Object) -> list[str]:
    if "subsets" in obj:
        return [a["ip"] for s in obj["subsets"] for a in s.get("addresses", [])]
    return [a for e in obj.get("endpoints", []) for a in e.get("addresses", [])]


def unusable_reason(ip: str) -> str | None:
    """Why `ip` cannot be the `kubernetes` Service's endpoint, or None when it can: an
    endpoint may not be unspecified, loopback or link-local (Kubernetes'
    ValidateEndpointIP), so an apiserver advertising such an address keeps no record."""
    problems = special_ip_problems(ip)
    return "; ".join(problems) if problems else None


def endpoint_reconciler(registry: Registry, config: ServerConfig) -> EndpointReconciler | None:
    """The lease endpoint reconciler of this apiserver (the Service kind's background
    work), unless --endpoint-reconciler-type=none or the advertised address cannot be an
    endpoint (loopback: no pod could reach it)."""
    if config.endpoint_reconciler_type == "none":
        return None
    ip = config.advertise_ip
    reason = unusable_reason(ip)
    if reason is not None:
        log.warning("component=apiserver endpoint reconciler off: advertise address %s %s; "
                    "endpoints default/kubernetes will not name this apiserver", ip, reason)
        return None
    return EndpointReconciler(
        registry, MasterLeases(registry.storage, config.endpoint_lease_ttl), ip,
        config.secure_port, endpoints=registry.kinds.lookup("", "endpoints").resource,
        slices=registry.kinds.lookup("discovery.k8s.io", "endpointslices").resource,
        interval=config.endpoint_reconcile_interval)
