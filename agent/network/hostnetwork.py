"""The node's routes and firewall for the pod network; the only module running `ip`, `iptables`.

host-gw routing, as flannel's host-gw backend does it: every other Node's pod
CIDR is reached through that Node's InternalIP, one kernel route each
(`ip route replace <podCIDR> via <nodeIP> proto 157`). The routes carry a
protocol number of their own, so the agent lists and removes only its own
routes, and of those only the ones inside `--cluster-cidr`: nothing else in
the routing table is ever touched. Docker's FORWARD policy drops traffic
between networks it does not know, so `DOCKER-USER` gets two ACCEPT rules,
`-s <cluster-cidr>` and `-d <cluster-cidr>`, inserted once (`iptables -C`
before `-I`).

`desired_routes` and `plan_routes` are pure (which routes should exist, what
to add and delete); `HostNetwork` runs the commands through an asyncio
subprocess `Runner`, never blocking the loop. Tests give it a fake runner, or
one that prefixes `ip netns exec <namespace>` to act in a namespace of their
own.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from apimachinery.meta import Object

log = logging.getLogger(__name__)
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

ROUTE_PROTOCOL = 157  # marks the routes the agent adds; no name in /etc/iproute2/rt_protos
FORWARD_CHAIN = "DOCKER-USER"
RULE_COMMENT = "schooner pod network"
COMMAND_TIMEOUT = 30.0


class HostNetworkError(Exception):
    """An `ip` or `iptables` command failed (or could not be run)."""


# -- the pure part ---------------------------------------------------------------------------

@dataclass(frozen=True, order=True)
class Route:
    destination: Network
    gateway: Address

    def __str__(self) -> str:
        return f"{self.destination} via {self.gateway}"


@dataclass(frozen=True)
class RoutePlan:
    replace: list[Route] = field(default_factory=list)
    delete: list[Route] = field(default_factory=list)


def _node_pod_cidrs(node: Object) -> list[str]:
    spec = node.get("spec") or {}
    listed = spec.get("podCIDRs")
    if isinstance(listed, list) and listed:
        return [str(c) for c in listed if c]
    return [str(spec["podCIDR"])] if spec.get("podCIDR") else []


def _internal_ips(node: Object) -> list[str]:
    addresses = (node.get("status") or {}).get("addresses") or []
    return [str(a.get("address")) for a in addresses
            if a.get("type") == "InternalIP" and a.get("address")]


def _parse(parse: Any, text: str) -> Any:
    try:
        return parse(text)
    except ValueError:
        return None


def desired_routes(nodes: Iterable[Object], *, node_name: str, cluster_cidr: Network,
                   own_cidr: Network | None) -> dict[Network, Address]:
    """Destination -> gateway: each other Node's pod CIDR via its InternalIP (pure).

    Only pod CIDRs inside the cluster CIDR count, never one overlapping this
    node's own (its bridge's route must win), and only usable gateways: an
    address of the same family outside the cluster CIDR, not loopback, link-local
    or unspecified. When two Nodes claim one CIDR, the first by name keeps it.
    """
    routes: dict[Network, Address] = {}
    for node in sorted(nodes, key=lambda n: str((n.get("metadata") or {}).get("name"))):
        if (node.get("metadata") or {}).get("name") == node_name:
            continue
        gateway = next((ip for ip in (_parse(ipaddress.ip_address, t)
                                      for t in _internal_ips(node))
                        if ip is not None and ip.version == cluster_cidr.version
                        and ip not in cluster_cidr and not ip.is_loopback
                        and not ip.is_link_local and not ip.is_unspecified), None)
        if gateway is None:
            continue
        for text in _node_pod_cidrs(node):
            cidr = _parse(ipaddress.ip_network, text)
            if cidr is None or cidr.version != cluster_cidr.version \
                    or not cidr.subnet_of(cluster_cidr):
                continue
            if own_cidr is not None and cidr.overlaps(own_cidr):
                continue
            routes.setdefault(cidr, gateway)
    return routes


def plan_routes(desired: dict[Network, Address], current: Iterable[Route],
                cluster_cidr: Network) -> RoutePlan:
    """What to replace and delete to go from `current` (the agent's routes) to `desired`.

    Routes outside the cluster CIDR are never deleted, whatever `current` says.
    """
    have: dict[Network, set[Address]] = {}
    for route in current:
        have.setdefault(route.destination, set()).add(route.gateway)
    replace = [Route(dst, gw) for dst, gw in sorted(desired.items(), key=lambda i: i[0])
               if have.get(dst) != {gw}]
    delete = sorted(Route(dst, gw) for dst, gws in have.items() for gw in gws
                    if dst not in desired and dst.version == cluster_cidr.version
                    and dst.subnet_of(cluster_cidr))  # type: ignore[arg-type]  # same version
    return RoutePlan(replace=replace, delete=delete)


def parse_routes(output: str, cluster_cidr: Network) -> list[Route]:
    """`ip -json route show proto N` output -> the routes inside the cluster CIDR."""
    routes = []
    for entry in json.loads(output or "[]"):
        dst = _parse(ipaddress.ip_network, str(entry.get("dst") or ""))
        gateway = _parse(ipaddress.ip_address, str(entry.get("gateway") or ""))
        if dst is None or gateway is None or dst.version != cluster_cidr.version:
            continue
        if dst.subnet_of(cluster_cidr):
            routes.append(Route(dst, gateway))
    return routes


# -- the commands ----------------------------------------------------------------------------

class Runner(Protocol):
    async def __call__(self, argv: Sequence[str]) -> tuple[int, str, str]: ...


@dataclass(frozen=True)
class SubprocessRunner:
    """Runs a command as an asyncio subprocess: (exit code, stdout, stderr)."""

    prefix: tuple[str, ...] = ()  # e.g. ("ip", "netns", "exec", "NAME") in tests
    timeout: float = COMMAND_TIMEOUT

    async def __call__(self, argv: Sequence[str]) -> tuple[int, str, str]:
        try:
            proc = await asyncio.create_subprocess_exec(
                *self.prefix, *argv, stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        except OSError as exc:
            raise HostNetworkError(f"{argv[0]}: {exc}") from exc
        try:
            out, err = await asyncio.wait_for(proc.communicate(), self.timeout)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise HostNetworkError(f"{' '.join(argv)}: no answer in {self.timeout:.0f}s") \
                from None
        assert proc.returncode is not None
        return proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")


def _family(net: Network | Address) -> list[str]:
    return ["-6"] if net.version == 6 else []


class HostNetwork:
    """The node's kernel routes and Docker's forwarding chain, through `runner`."""

    def __init__(self, runner: Runner | None = None) -> None:
        self.runner: Runner = runner or SubprocessRunner()

    async def _run(self, argv: list[str], *, ok: tuple[int, ...] = (0,)) -> tuple[int, str]:
        code, out, err = await self.runner(argv)
        if code not in ok:
            raise HostNetworkError(f"{' '.join(argv)}: exit {code}: {err.strip() or out.strip()}")
        return code, out

    async def routes(self, cluster_cidr: Network) -> list[Route]:
        """The agent's own routes (its protocol number) inside the cluster CIDR."""
        _, out = await self._run(["ip", *_family(cluster_cidr), "-json", "route", "show",
                                  "table", "main", "proto", str(ROUTE_PROTOCOL)])
        return parse_routes(out, cluster_cidr)

    async def replace_route(self, route: Route) -> None:
        await self._run(["ip", *_family(route.destination), "route", "replace",
                         str(route.destination), "via", str(route.gateway),
                         "proto", str(ROUTE_PROTOCOL)])

    async def delete_route(self, route: Route) -> None:
        """Delete one of the agent's routes; one already gone is fine (exit 2, ESRCH)."""
        await self._run(["ip", *_family(route.destination), "route", "del",
                         str(route.destination), "via", str(route.gateway),
                         "proto", str(ROUTE_PROTOCOL)], ok=(0, 2))

    async def ensure_forward_accept(self, cluster_cidr: Network) -> list[str]:
        """ACCEPT pod traffic in DOCKER-USER, from and to the cluster CIDR; the rules added."""
        tool = "ip6tables" if cluster_cidr.version == 6 else "iptables"
        added = []
        for direction in ("-s", "-d"):
            rule = [FORWARD_CHAIN, direction, str(cluster_cidr), "-m", "comment",
                    "--comment", RULE_COMMENT, "-j", "ACCEPT"]
            code, _ = await self._run([tool, "-w", "-C", *rule], ok=(0, 1))
            if code == 1:  # no such rule (or no such chain: then -I says so)
                await self._run([tool, "-w", "-I", *rule])
                added.append(f"{direction} {cluster_cidr}")
        return added
