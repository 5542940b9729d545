"""etcd over TLS with a client certificate (`--etcd-cafile`, `--etcd-certfile`, `--etcd-keyfile`).

etcd is private: it accepts only clients whose certificate its own CA signed,
and only the apiserver holds one (apimachinery/etcdpki.py). aetcd 1.0 opens
plain channels only (its `Client.connect` calls `insecure_channel`), so
`TLSClient` is aetcd's client with the one step that differs: the channel is a
secure one with the apiserver's credentials. Everything else (stubs, watcher,
the gRPC options of etcdclient.py) is aetcd's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aetcd
import grpc
from aetcd import rpc, watcher


def etcd_credentials(cafile: str | None, certfile: str | None,
                     keyfile: str | None) -> grpc.ChannelCredentials | None:
    """The credentials the three flags give; None when none is set (the defaults then)."""
    if not (cafile or certfile or keyfile):
        return None
    return channel_credentials(cafile, certfile, keyfile)


def channel_credentials(cafile: str | None, certfile: str | None,
                        keyfile: str | None) -> grpc.ChannelCredentials:
    """gRPC credentials checking the members by `cafile` (the system's roots without one)
    and presenting the client certificate when one is given, as Kubernetes' etcd3 client
    does with the same three flags. A file that cannot be read is an OSError at start."""
    if bool(certfile) != bool(keyfile):
        raise ValueError("--etcd-certfile and --etcd-keyfile go together")
    return grpc.ssl_channel_credentials(
        root_certificates=Path(cafile).read_bytes() if cafile else None,
        private_key=Path(keyfile).read_bytes() if keyfile else None,
        certificate_chain=Path(certfile).read_bytes() if certfile else None)


class TLSClient(aetcd.Client):  # type: ignore[misc]  # aetcd ships no types
    """aetcd's client on a TLS channel (the apiserver's client certificate, etcd's CA)."""

    def __init__(self, *, credentials: grpc.ChannelCredentials, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._credentials = credentials

    async def connect(self) -> None:
        """aetcd's connect, on `secure_channel`; etcd checks the certificate at the handshake
        (the first call). Nothing here awaits, so no other task finds it half done."""
        if self._connected.is_set():
            return
        self.channel = rpc.secure_channel(f"{self._host}:{self._port}", self._credentials,
                                          options=list(self._options.items()))
        self.kvstub = rpc.KVStub(self.channel)
        self.clusterstub = rpc.ClusterStub(self.channel)
        self.leasestub = rpc.LeaseStub(self.channel)
        self.maintenancestub = rpc.MaintenanceStub(self.channel)
        self._watcher = watcher.Watcher(rpc.WatchStub(self.channel), timeout=self._timeout,
                                        metadata=self.metadata)
        self._connected.set()
