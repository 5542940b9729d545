"""Waiting for a lab to be usable, and reading where things answer, through the API.

Shared by `schooner lab up` (compose) and `SchoonerCluster` (testcontainers):
both start the same containers and then wait for the same things, the
apiserver's /readyz, then every node Ready with a podCIDR.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from apimachinery import errors
from apimachinery.client import Client
from apimachinery.conditions import is_ready

POLL = 0.5


class LabTimeout(Exception):
    """The lab did not reach a state in time; the message says what was last seen."""


@dataclass(frozen=True)
class NodeRow:
    name: str
    ready: bool
    address: str
    pod_cidr: str


def node_rows(client: Client) -> list[NodeRow]:
    rows = []
    for node in client.list("nodes").get("items") or []:
        status = node.get("status") or {}
        ready = is_ready(node)
        address = next((a.get("address", "") for a in status.get("addresses") or []
                        if a.get("type") == "InternalIP"), "")
        rows.append(NodeRow(node["metadata"]["name"], ready, address,
                            str((node.get("spec") or {}).get("podCIDR") or "")))
    return sorted(rows, key=lambda r: r.name)


def wait_until(check: Callable[[], tuple[bool, Any]], timeout: float, what: str) -> Any:
    """Poll `check` (returns done, last seen) until done or the deadline; say what was seen."""
    deadline = time.monotonic() + timeout
    seen: Any = None
    while True:
        try:
            done, seen = check()
        except (errors.APIError, OSError) as exc:
            done, seen = False, exc
        if done:
            return seen
        if time.monotonic() >= deadline:
            raise LabTimeout(f"{what} not reached within {timeout:.0f}s; last seen: {seen}")
        time.sleep(POLL)


def wait_for_apiserver(client: Client, timeout: float) -> None:
    def ready() -> tuple[bool, Any]:
        resp = client.request("GET", "/readyz")
        return resp.status_code == 200, f"/readyz {resp.status_code}"
    wait_until(ready, timeout, "apiserver ready")


def wait_for_nodes(client: Client, names: list[str], timeout: float) -> list[NodeRow]:
    """Every named node Ready with a podCIDR; returns them."""
    def ready() -> tuple[bool, Any]:
        rows = {r.name: r for r in node_rows(client)}
        done = all(n in rows and rows[n].ready and rows[n].pod_cidr for n in names)
        return done, list(rows.values())
    return list(wait_until(ready, timeout, f"nodes {', '.join(names)} Ready"))
