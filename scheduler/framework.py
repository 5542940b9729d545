"""The scheduling framework: extension points, NodeInfo, Status and the FitError message.

Mirrors `pkg/scheduler/framework/interface.go` and `types.go`: a plugin is a
small object with a `name` that implements one or more extension points
(PreFilter, Filter, Score, NormalizeScore). Filters answer with a `Status`
whose reasons are Kubernetes' own strings ("Insufficient cpu"), and
`unschedulable_message` assembles them exactly as `FitError.Error()` does, so
`0/3 nodes are available: 3 Insufficient cpu.` reads the same as on a real
cluster. Everything here is a pure function of plain objects (wire-format
dicts, typed as `apimachinery.typeddicts`' Pod and Node): no I/O, no clock.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar, Generic, NamedTuple, Protocol, TypeVar, runtime_checkable

from apimachinery import meta
from apimachinery.quantity import cpu_millis, memory_bytes
from apimachinery.typeddicts import Container, Node, Pod

MAX_NODE_SCORE = 100
MIN_NODE_SCORE = 0
# The non-zero requests scoring assumes for a container that asks for nothing
# (pkg/scheduler/util: DefaultMilliCPURequest, DefaultMemoryRequest), so that
# best-effort pods still spread instead of all landing on one "empty" node.
DEFAULT_MILLI_CPU_REQUEST = 100
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024
NO_NODES_AVAILABLE = "no nodes available to schedule pods"
# numFeasibleNodesToFind (schedule_one.go): below this many nodes every node is checked,
# and a cycle never stops looking with fewer feasible nodes than this.
MIN_FEASIBLE_NODES_TO_FIND = 100
MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5

K = TypeVar("K")
R = TypeVar("R")


class IdentityMemo(Generic[K, R]):
    """Remember `fn(obj)` for the very object `obj`, for objects nobody mutates.

    The pods the scheduler reads are the informer's cached dicts, read-only by
    contract (apimachinery.informer.Store), and an update replaces the dict. So a
    pod's requests, parsed from quantity strings, are the same every time they are
    asked for in one cycle (once per node) and in every NodeInfo the pod is in. The
    memo holds the object itself, so its id cannot be reused while it is remembered;
    it forgets everything when full.
    """

    def __init__(self, fn: Callable[[K], R], size: int = 16384) -> None:
        self._fn, self._size = fn, size
        self._memo: dict[int, tuple[K, R]] = {}

    def __call__(self, obj: K) -> R:
        hit = self._memo.get(id(obj))
        if hit is not None and hit[0] is obj:
            return hit[1]
        if len(self._memo) >= self._size:
            self._memo.clear()
        value = self._fn(obj)
        self._memo[id(obj)] = (obj, value)
        return value


# -- Status ------------------------------------------------------------------------------

class Code(enum.Enum):
    """framework.Code: what a plugin's answer means for the scheduling cycle."""

    SUCCESS = "Success"
    ERROR = "Error"
    UNSCHEDULABLE = "Unschedulable"
    # The node can never fit this pod, whatever is evicted (matters for preemption).
    UNSCHEDULABLE_AND_UNRESOLVABLE = "UnschedulableAndUnresolvable"
    # PreFilter only: this plugin has nothing to check for the pod; skip its Filter.
    SKIP = "Skip"


@dataclass(frozen=True)
class Status:
    """A plugin's verdict and its human-readable reasons (framework.Status)."""

    code: Code = Code.SUCCESS
    reasons: tuple[str, ...] = ()
    plugin: str = ""

    @classmethod
    def unschedulable(cls, *reasons: str) -> Status:
        return cls(Code.UNSCHEDULABLE, reasons)

    @classmethod
    def unresolvable(cls, *reasons: str) -> Status:
        return cls(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, reasons)

    @classmethod
    def error(cls, message: str) -> Status:
        return cls(Code.ERROR, (message,))

    @property
    def is_success(self) -> bool:
        return self.code is Code.SUCCESS

    @property
    def is_rejected(self) -> bool:
        """Unschedulable, resolvable or not (framework.Status.IsRejected)."""
        return self.code in (Code.UNSCHEDULABLE, Code.UNSCHEDULABLE_AND_UNRESOLVABLE)

    @property
    def message(self) -> str:
        return ", ".join(self.reasons)


SUCCESS = Status()
SKIP = Status(Code.SKIP)


# -- resources ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Resource:
    """Amounts of compute resources (framework.Resource): cpu in millicores, bytes else.

    `scalar` holds every other resource (`nvidia.com/gpu`, hugepages) by name.
    """

    milli_cpu: int = 0
    memory: int = 0
    ephemeral_storage: int = 0
    scalar: Mapping[str, int] = field(default_factory=dict)

    def __add__(self, other: Resource) -> Resource:
        scalar = dict(self.scalar)
        for name, value in other.scalar.items():
            scalar[name] = scalar.get(name, 0) + value
        return Resource(self.milli_cpu + other.milli_cpu, self.memory + other.memory,
                        self.ephemeral_storage + other.ephemeral_storage, scalar)

    def max(self, other: Resource) -> Resource:
        """Each resource's larger amount (how init containers' requests combine)."""
        names = set(self.scalar) | set(other.scalar)
        return Resource(max(self.milli_cpu, other.milli_cpu), max(self.memory, other.memory),
                        max(self.ephemeral_storage, other.ephemeral_storage),
                        {n: max(self.scalar.get(n, 0), other.scalar.get(n, 0)) for n in names})

    @classmethod
    def from_list(cls, resources: Mapping[str, Any] | None) -> Resource:
        """A v1.ResourceList (`{"cpu": "500m", "memory": "1Gi"}`); `pods` is not a resource."""
        values = dict(resources or {})
        scalar = {name: memory_bytes(q) for name, q in values.items()
                  if name not in ("cpu", "memory", "ephemeral-storage", "pods")}
        return cls(cpu_millis(values.get("cpu", 0)), memory_bytes(values.get("memory", 0)),
                   memory_bytes(values.get("ephemeral-storage", 0)), scalar)


def _container_requests(container: Container, non_zero: bool) -> Resource:
    """A container's requests; limits stand in for missing requests.

    Kubernetes' defaulting (SetDefaults_Pod) copies limits into missing requests on
    create, so reading limits here gives the same answer for objects it never saw.
    With `non_zero`, unset cpu/memory count as 100m/200Mi (GetNonzeroRequests).
    """
    res = container.get("resources") or {}
    merged = {**(res.get("limits") or {}), **(res.get("requests") or {})}
    req = Resource.from_list(merged)
    if non_zero:
        req = Resource(req.milli_cpu or DEFAULT_MILLI_CPU_REQUEST,
                       req.memory or DEFAULT_MEMORY_REQUEST, req.ephemeral_storage, req.scalar)
    return req


def pod_requests(pod: Pod, *, non_zero: bool = False) -> Resource:
    """What the pod asks of a node (resource.PodRequests), remembered per pod object."""
    return _non_zero_requests(pod) if non_zero else _requests(pod)


def compute_pod_requests(pod: Pod, *, non_zero: bool = False) -> Resource:
    """What the pod asks of a node (resource.PodRequests).

    The sum of its containers (and of restartable "sidecar" init containers), or
    the largest init container if that is more, since init containers run one at
    a time before the others; plus the pod's `overhead`.
    """
    spec = meta.pod_spec(pod)
    total = Resource()
    for container in spec.get("containers") or []:
        total = total + _container_requests(container, non_zero)
    sidecars, init_peak = Resource(), Resource()
    for container in spec.get("initContainers") or []:
        req = _container_requests(container, non_zero)
        if container.get("restartPolicy") == "Always":
            total, sidecars = total + req, sidecars + req
            init_peak = init_peak.max(sidecars)
        else:
            init_peak = init_peak.max(sidecars + req)
    total = total.max(init_peak)
    return total + Resource.from_list(spec.get("overhead"))


def _compute_non_zero_requests(pod: Pod) -> Resource:
    return compute_pod_requests(pod, non_zero=True)


_requests = IdentityMemo(compute_pod_requests)
_non_zero_requests = IdentityMemo(_compute_non_zero_requests)


# -- host ports --------------------------------------------------------------------------

class HostPort(NamedTuple):
    """One (hostIP, protocol, hostPort) a pod claims on its node; 0.0.0.0 means every IP."""

    ip: str
    protocol: str
    port: int


def _host_ports(pod: Pod) -> tuple[HostPort, ...]:
    ports: list[HostPort] = []
    for container in meta.pod_spec(pod).get("containers") or []:
        for port in container.get("ports") or []:
            if int(port.get("hostPort") or 0) > 0:
                ports.append(HostPort(port.get("hostIP") or "0.0.0.0",
                                      port.get("protocol") or "TCP", int(port["hostPort"])))
    return tuple(ports)


_memo_host_ports = IdentityMemo(_host_ports)


def pod_host_ports(pod: Pod) -> list[HostPort]:
    """The host ports the pod's containers ask for (GetContainerPorts, hostPort > 0 only)."""
    return list(_memo_host_ports(pod))


def host_port_conflicts(wanted: HostPort, used: Iterable[HostPort]) -> bool:
    """HostPortInfo.CheckConflict: same protocol and port, and either IP is 0.0.0.0 or equal."""
    return any(u.protocol == wanted.protocol and u.port == wanted.port
               and (u.ip == wanted.ip or "0.0.0.0" in (u.ip, wanted.ip)) for u in used)


# -- NodeInfo ----------------------------------------------------------------------------

@dataclass(frozen=True)
class NodeInfo:
    """A node and what the pods on it use (framework.NodeInfo), rebuilt per cycle.

    `requested` sums the pods' real requests (for fit); `non_zero_requested` counts
    best-effort containers as 100m/200Mi (for scoring), exactly as Kubernetes does.
    """

    node: Node
    pods: tuple[Pod, ...] = ()
    requested: Resource = Resource()
    non_zero_requested: Resource = Resource()
    used_ports: frozenset[HostPort] = frozenset()

    @classmethod
    def build(cls, node: Node, pods: Iterable[Pod] = ()) -> NodeInfo:
        """NodeInfo.AddPod for each pod, summed in one pass."""
        pods = tuple(pods)
        requested, non_zero, ports = Resource(), Resource(), set[HostPort]()
        for pod in pods:
            requested = requested + pod_requests(pod)
            non_zero = non_zero + pod_requests(pod, non_zero=True)
            ports.update(_memo_host_ports(pod))
        return cls(node, pods, requested, non_zero, frozenset(ports))

    def with_pod(self, pod: Pod) -> NodeInfo:
        """A new NodeInfo that also counts `pod` (NodeInfo.AddPod)."""
        return NodeInfo(self.node, (*self.pods, pod),
                        self.requested + pod_requests(pod),
                        self.non_zero_requested + pod_requests(pod, non_zero=True),
                        self.used_ports | frozenset(_memo_host_ports(pod)))

    @cached_property
    def name(self) -> str:
        return meta.name_of(self.node)

    @cached_property
    def allocatable(self) -> Resource:
        return Resource.from_list(meta.node_status(self.node).get("allocatable"))

    @cached_property
    def allowed_pod_number(self) -> int:
        """`status.allocatable.pods`; a node that states none takes none, as in Kubernetes."""
        pods = (meta.node_status(self.node).get("allocatable") or {}).get("pods", 0)
        return memory_bytes(pods)


# -- extension points ----------------------------------------------------------------------

class Plugin(Protocol):
    """Every plugin has a unique name (used in weights, logs and errors)."""

    name: ClassVar[str]


@runtime_checkable
class PreFilterPlugin(Protocol):
    """Once per pod before the filters: reject it outright, or SKIP this plugin's Filter."""

    name: ClassVar[str]

    def pre_filter(self, pod: Pod) -> Status: ...


@runtime_checkable
class CandidateNarrowingPlugin(Protocol):
    """PreFilter with a PreFilterResult: the only nodes that can run the pod, or None for any."""

    name: ClassVar[str]
    reason: ClassVar[str]  # why the other nodes are left out

    def candidate_nodes(self, pod: Pod, node_infos: Sequence[NodeInfo]) -> set[str] | None: ...


@runtime_checkable
class FilterPlugin(Protocol):
    """Can the pod run on this node? SUCCESS or a rejection with Kubernetes' reason."""

    name: ClassVar[str]

    def filter(self, pod: Pod, node_info: NodeInfo) -> Status: ...


@runtime_checkable
class ScorePlugin(Protocol):
    """How good is this (feasible) node for the pod: MIN..MAX_NODE_SCORE unless normalized."""

    name: ClassVar[str]

    def score(self, pod: Pod, node_info: NodeInfo) -> int: ...


@runtime_checkable
class NormalizeScorePlugin(Protocol):
    """Rescale one plugin's raw scores, across all feasible nodes, to MIN..MAX_NODE_SCORE."""

    name: ClassVar[str]

    def normalize_score(self, pod: Pod, scores: Mapping[str, int]) -> dict[str, int]: ...


def default_normalize_score(scores: Mapping[str, int], *, reverse: bool = False,
                            max_priority: int = MAX_NODE_SCORE) -> dict[str, int]:
    """helper.DefaultNormalizeScore: scale to 0..max by the highest score; `reverse` flips.

    With every score 0, reverse gives everyone the maximum (nothing to hold against any).
    """
    highest = max(scores.values(), default=0)
    if highest == 0:
        return {n: max_priority if reverse else 0 for n in scores}
    out: dict[str, int] = {}
    for name, score in scores.items():
        scaled = max_priority * score // highest
        out[name] = max_priority - scaled if reverse else scaled
    return out


@dataclass(frozen=True)
class Profile:
    """The plugins of one scheduler profile, in run order, and each scorer's weight.

    The per-extension-point lists are computed once: a runtime-checkable Protocol's
    isinstance() inspects every member, and doing that for every plugin on every
    node of every cycle was half of a cycle's time at 1,000 nodes.
    `percentage_of_nodes_to_score` is kube-scheduler's percentageOfNodesToScore
    (0: its adaptive default, 50% less 1% per 125 nodes, at least 5%).
    """

    plugins: Sequence[object]
    weights: Mapping[str, int] = field(default_factory=dict)
    percentage_of_nodes_to_score: int = 0

    @cached_property
    def pre_filters(self) -> list[PreFilterPlugin]:
        return [p for p in self.plugins if isinstance(p, PreFilterPlugin)]

    @cached_property
    def candidate_narrowers(self) -> list[CandidateNarrowingPlugin]:
        return [p for p in self.plugins if isinstance(p, CandidateNarrowingPlugin)]

    @cached_property
    def filters(self) -> list[FilterPlugin]:
        return [p for p in self.plugins if isinstance(p, FilterPlugin)]

    @cached_property
    def scorers(self) -> list[ScorePlugin]:
        return [p for p in self.plugins if isinstance(p, ScorePlugin)]

    @cached_property
    def normalizers(self) -> frozenset[str]:
        """Names of the scorers that also normalize their scores."""
        return frozenset(p.name for p in self.scorers if isinstance(p, NormalizeScorePlugin))

    def num_feasible_nodes_to_find(self, num_all_nodes: int) -> int:
        """numFeasibleNodesToFind: how many feasible nodes are enough to pick from."""
        if num_all_nodes < MIN_FEASIBLE_NODES_TO_FIND:
            return num_all_nodes
        percentage = self.percentage_of_nodes_to_score
        if percentage <= 0:
            percentage = max(50 - num_all_nodes // 125, MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND)
        if percentage >= 100:
            return num_all_nodes
        return max(num_all_nodes * percentage // 100, MIN_FEASIBLE_NODES_TO_FIND)

    def weight(self, plugin: ScorePlugin) -> int:
        return self.weights.get(plugin.name, 1)


# -- the FitError message --------------------------------------------------------------

def unschedulable_message(num_nodes: int, reasons: Iterable[str], *,
                          pre_filter_message: str = "") -> str:
    """FitError.Error(): `0/3 nodes are available: 1 reason a, 2 reason b.`

    `reasons` holds one entry per node and reason (a node rejected for cpu and
    memory contributes both). As in Kubernetes, the `"<count> <reason>"` strings are
    sorted as strings, and a PreFilter rejection replaces the per-node histogram.
    """
    message = f"0/{num_nodes} nodes are available:"
    if pre_filter_message:
        return f"{message} {pre_filter_message}."
    histogram = sorted(f"{count} {reason}" for reason, count in Counter(reasons).items())
    if histogram:
        message += f" {', '.join(histogram)}."
    return message
