"""ClusterIPs as /32 addresses on the loopback device: the only module that runs `ip`.

The kernel here has no `dummy` link type, and kube-proxy's ipvs mode puts service
addresses on a dummy `kube-ipvs0`; `lo` does the same job for a userspace proxy
(RECIPES: "Service IPs for a userspace proxy"). Adding and deleting are idempotent
("File exists" and "Cannot assign requested address" mean the address is already
as wanted), so a restarted proxy converges whatever its predecessor left behind:
a service address already on the device is adopted (the caller only asks for
addresses inside the cluster's service range, which nothing but the proxy uses).
The proxy remembers what it holds and removes exactly that on shutdown.
"""

from __future__ import annotations

import asyncio
import logging

log = logging.getLogger(__name__)

DEFAULT_DEVICE = "lo"
_ALREADY_THERE = "File exists"
_ALREADY_GONE = "Cannot assign requested address"


class AddressError(RuntimeError):
    """`ip addr` failed for a reason other than the address already being as wanted."""


async def _ip(*args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        "ip", *args, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    _, stderr = await asyncio.wait_for(proc.communicate(), 10)
    return proc.returncode or 0, stderr.decode(errors="replace").strip()


class LoopbackAddresses:
    """The /32 addresses this proxy added to one device."""

    def __init__(self, device: str = DEFAULT_DEVICE) -> None:
        self.device = device
        self.added: set[str] = set()

    async def add(self, ip: str) -> None:
        """`ip addr add IP/32 dev lo`; an address already present is adopted."""
        code, err = await _ip("addr", "add", f"{ip}/32", "dev", self.device)
        if code == 0:
            self.added.add(ip)
            log.info("component=proxy ip=%s device=%s msg=\"address added\"", ip, self.device)
        elif _ALREADY_THERE in err:
            self.added.add(ip)
            log.info("component=proxy ip=%s msg=\"address already present, adopted\"", ip)
        else:
            raise AddressError(f"ip addr add {ip}/32 dev {self.device}: {err}")

    async def remove(self, ip: str) -> None:
        """`ip addr del IP/32 dev lo`, if this proxy holds it."""
        if ip not in self.added:
            return
        code, err = await _ip("addr", "del", f"{ip}/32", "dev", self.device)
        if code != 0 and _ALREADY_GONE not in err:
            raise AddressError(f"ip addr del {ip}/32 dev {self.device}: {err}")
        self.added.discard(ip)
        log.info("component=proxy ip=%s device=%s msg=\"address removed\"", ip, self.device)

    async def remove_all(self) -> None:
        """Remove every address this proxy added; log and go on past a failure."""
        for ip in sorted(self.added):
            try:
                await self.remove(ip)
            except (AddressError, OSError, TimeoutError) as exc:
                log.error("component=proxy ip=%s error=%r msg=\"could not remove address\"",
                          ip, exc)
