"""The apiservers' address records: `/registry/masterleases/<IP>` keys that expire.

Kubernetes' storageLeases (pkg/controlplane/reconcilers/lease.go) keep one key per
apiserver under `/registry/masterleases/`, written with an etcd lease of the TTL,
so a key whose apiserver stopped renewing it disappears on its own: etcd's clock
decides, no apiserver has to notice another's death. The key's value is the
address itself (Kubernetes stores an Endpoints object naming it; only the key is
ever read back). These keys are not objects: no kind serves them and no watch
follows them; only the endpoint reconciler reads them.
"""

from __future__ import annotations

from apiserver.storage import Storage

PREFIX = "/registry/masterleases/"


class MasterLeases:
    """The records of the apiservers alive now, each living `ttl` seconds after a write."""

    def __init__(self, storage: Storage, ttl: int) -> None:
        self._storage = storage
        self._ttl = ttl

    async def update(self, ip: str) -> None:
        await self._storage.put_expiring(PREFIX + ip, ip.encode(), self._ttl)

    async def list(self) -> list[str]:
        return sorted(await self._storage.values(PREFIX))

    async def remove(self, ip: str) -> None:
        await self._storage.delete_key(PREFIX + ip)
