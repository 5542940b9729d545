"""The node IPAM controller: every Node gets a pod CIDR of its own (the range allocator).

Kubernetes' pkg/controller/nodeipam with ipam/range_allocator.go, run when
kube-controller-manager has `--allocate-node-cidrs`. The cluster CIDR is cut
into `--node-cidr-mask-size` subnets (`cidrset.CIDRSet`, pure); a subnet
overlapping `--service-cluster-ip-range` is marked used from the start, so no
Node ever gets service addresses as pod addresses.

* Before the workers run, every CIDR the cached Nodes already hold is marked
  used (the allocator's constructor does this from the node list), so a
  restarted controller-manager never hands out a CIDR twice.
* A Node without `spec.podCIDR` gets the next free subnet, written as
  `spec.podCIDR` and `spec.podCIDRs: [it]` with a merge patch (never an
  update: the agent patches the same Node's status all the time, and a patch
  carries no resourceVersion to conflict on). A podCIDR once set is never
  changed here; the apiserver refuses a change anyway ("node updates may not
  change podCIDR except from "" to valid").
* A Node that holds a CIDR marks it used; a deleted Node frees it, and the
  Nodes still waiting for one are looked at again at once.
* When no subnet is left, the Node gets a `CIDRNotAvailable` event (as
  nodeutil.RecordNodeStatusChange words it) and is retried with back-off.
"""

from __future__ import annotations

from apimachinery import errors, meta
from apimachinery.clock import Clock
from apimachinery.events import EventRecorder
from apimachinery.meta import Object

from ..base import Controller, ControllerClient, Requeue, SharedInformerFactory
from .cidrset import CIDRRangeFull, CIDRSet, Network, parse_cidr

EVENT_COMPONENT = "cidrAllocator"  # the range allocator's event source in Kubernetes


def pod_cidrs(node: Object) -> tuple[str, ...]:
    """The Node's pod CIDRs as written: `spec.podCIDRs`, else `[spec.podCIDR]`."""
    spec = node.get("spec") or {}
    listed = spec.get("podCIDRs")
    if isinstance(listed, list) and listed:
        return tuple(str(c) for c in listed if c)
    return (str(spec["podCIDR"]),) if spec.get("podCIDR") else ()


def cidr_patch(cidr: Network) -> Object:
    """PatchNodeCIDRs' body: both the singular field and the list."""
    return {"spec": {"podCIDR": str(cidr), "podCIDRs": [str(cidr)]}}


class NodeIpamController(Controller):
    """Gives each Node a pod CIDR from the cluster CIDR; frees it when the Node goes."""

    name = "nodeipam"

    def __init__(self, client: ControllerClient, factory: SharedInformerFactory, *,
                 cluster_cidr: str, node_cidr_mask_size: int, service_cidr: str = "",
                 workers: int = 1, clock: Clock | None = None,
                 recorder: EventRecorder | None = None) -> None:
        super().__init__(client, factory, workers=workers, clock=clock)
        self.cidrs = CIDRSet(cluster_cidr, node_cidr_mask_size)
        self.service_cidr = parse_cidr(service_cidr) if service_cidr else None
        if self.service_cidr is not None and self.service_cidr.overlaps(
                self.cidrs.cluster_cidr):  # filterOutServiceRange
            self.cidrs.occupy(self.service_cidr)
        # The recorder only needs create and patch, which every ControllerClient has.
        self.recorder = recorder or EventRecorder(client, EVENT_COMPONENT,  # type: ignore[arg-type]
                                                  self.clock)
        self._held: dict[str, tuple[Network, ...]] = {}  # node name -> CIDRs marked for it
        self._occupied_existing = False
        self.node_informer = factory.informer("nodes")
        self.node_informer.add_event_handler(self.enqueue, self._node_updated, self.enqueue)

    def _node_updated(self, old: Object, new: Object) -> None:
        if not pod_cidrs(new) or pod_cidrs(old) != pod_cidrs(new):
            self.enqueue(new)

    # -- the CIDRs held ---------------------------------------------------------------------

    def occupy_existing(self) -> None:
        """Mark what every cached Node holds as used (before any allocation)."""
        self._occupied_existing = True
        for node in self.node_informer.store.list():
            if pod_cidrs(node):
                self._occupy(meta.name_of(node), pod_cidrs(node))
        self.log.info("component=controller-manager controller=%s cluster_cidr=%s "
                      "node_mask=/%d service_cidr=%s subnets=%d used=%d", self.name,
                      self.cidrs.cluster_cidr, self.cidrs.node_mask_size,
                      self.service_cidr or "", self.cidrs.max_cidrs, len(self.cidrs))

    def _occupy(self, name: str, cidrs: tuple[str, ...]) -> None:
        """The Node holds `cidrs`: mark those inside the cluster CIDR (occupyCIDRs)."""
        inside: list[Network] = []
        for text in cidrs:
            try:
                cidr = parse_cidr(text)
                if cidr.version == self.cidrs.cluster_cidr.version:
                    self.cidrs.occupy(cidr)
                    inside.append(cidr)
            except ValueError as exc:
                self.decision(name, "ignore-podcidr", cidr=text, reason=repr(str(exc)))
        held = self._held.get(name)
        if held is not None and held != tuple(inside):
            self._release(name)  # ours was not taken: someone else set another CIDR
        self._held[name] = tuple(inside)

    def _release(self, name: str) -> tuple[Network, ...]:
        """Free what `name` held, unless another Node holds the same CIDR (set by hand)."""
        held = self._held.pop(name, ())
        others = {c for cidrs in self._held.values() for c in cidrs}
        for cidr in held:
            if cidr not in others:
                self.cidrs.release(cidr)
        return held

    def _enqueue_waiting(self) -> None:
        """Nodes that still want a CIDR: look again now that one is free."""
        for node in self.node_informer.store.list():
            if not pod_cidrs(node) and meta.name_of(node) not in self._held:
                self.enqueue(node)

    # -- reconcile --------------------------------------------------------------------------

    async def reconcile(self, key: str) -> None:
        if not self._occupied_existing:
            self.occupy_existing()
        node = self.node_informer.store.get(key)
        if node is None:
            released = self._release(key)
            if released:
                self.decision(key, "release", cidr=",".join(map(str, released)))
                self._enqueue_waiting()
            return
        if pod_cidrs(node):
            self._occupy(key, pod_cidrs(node))
            return
        held = self._held.get(key)
        if not held:
            held = (self._allocate(node),)
            self._held[key] = held
            self.decision(key, "allocate", cidr=held[0])
        await self._write(key, held[0])

    def _allocate(self, node: Object) -> Network:
        try:
            return self.cidrs.allocate_next()
        except CIDRRangeFull as exc:
            name = meta.name_of(node)
            self.recorder.record(
                {"apiVersion": "v1", "kind": "Node",
                 "metadata": {"name": name, "uid": meta.metadata(node).get("uid"),
                              "namespace": ""}},
                "CIDRNotAvailable", f"Node {name} status is now: CIDRNotAvailable")
            raise Requeue(str(exc)) from None

    async def _write(self, name: str, cidr: Network) -> None:
        """Patch the CIDR onto the Node; the CIDR stays held (and is re-sent) until seen."""
        try:
            await self.client.patch("nodes", name, cidr_patch(cidr))
        except errors.NotFound:
            self._release(name)  # gone meanwhile; its delete event comes too
        except errors.Invalid:
            # Someone set another podCIDR first: free ours, and occupy theirs when the
            # cache shows it (updateCIDRsAllocation releases on a failed patch as well).
            self._release(name)
            raise Requeue("the Node's podCIDR was set by someone else") from None

    # -- running ----------------------------------------------------------------------------

    async def run(self) -> None:
        """Occupy what Nodes hold, then run the workers (and the event sender)."""
        self.occupy_existing()
        await super().run()
