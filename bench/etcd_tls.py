"""What etcd's TLS costs the apiserver's etcd client: puts on a plain etcd and a private one.

Run from the repository root::

    .venv/bin/python bench/etcd_tls.py [--rounds 6]

Two etcds side by side (`cli.cluster.processes.Etcd`, one plain HTTP, one private:
TLS with client certificates, as `schooner up` and the lab run it), each driven
with the apiserver's own client classes and gRPC options (aetcd's `Client`, and
`apiserver.etcdtls.TLSClient` with the apiserver's etcd client certificate). Each
round, in alternating order: 200 sequential puts of a pod-sized value (latency),
then 1,000 puts at concurrency 64 (throughput). Prints p50/p99 and the throughput
range of each. Loopback only; both etcds are stopped however it ends.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aetcd

from apiserver.etcdclient import GRPC_OPTIONS
from apiserver.etcdtls import TLSClient, channel_credentials
from cli.cluster.processes import Etcd

VALUE = b"x" * 1900  # about a stored pod


async def sequential(client: Any, count: int, tag: str) -> list[float]:
    took = []
    for i in range(count):
        start = time.perf_counter()
        await client.put(f"/bench-tls/{tag}/{i}".encode(), VALUE)
        took.append(time.perf_counter() - start)
    return took


async def concurrent(client: Any, count: int, level: int, tag: str) -> float:
    slots = asyncio.Semaphore(level)

    async def put(i: int) -> None:
        async with slots:
            await client.put(f"/bench-tls-c/{tag}/{i}".encode(), VALUE)
    start = time.perf_counter()
    await asyncio.gather(*(put(i) for i in range(count)))
    return count / (time.perf_counter() - start)


async def measure(plain: Etcd, private: Etcd, rounds: int) -> dict[str, tuple[list[float],
                                                                              list[float]]]:
    tls = private.client_tls
    assert tls is not None
    clients = {
        "plain": aetcd.Client(host="127.0.0.1", port=plain.client_port, timeout=5,
                              options=GRPC_OPTIONS),
        "tls": TLSClient(credentials=channel_credentials(str(tls.ca), str(tls.cert),
                                                         str(tls.key)),
                         host="127.0.0.1", port=private.client_port, timeout=5,
                         options=GRPC_OPTIONS),
    }
    results: dict[str, tuple[list[float], list[float]]] = {k: ([], []) for k in clients}
    try:
        for client in clients.values():
            await sequential(client, 20, "warm")  # connect, first handshake
        for r in range(rounds):
            order = list(clients) if r % 2 == 0 else list(reversed(clients))
            for name in order:
                results[name][0].extend(await sequential(clients[name], 200, str(r)))
                results[name][1].append(await concurrent(clients[name], 1000, 64, str(r)))
    finally:
        for client in clients.values():
            await client.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="schooner-etcd-tls-") as tmp:
        plain, private = Etcd(Path(tmp) / "plain"), Etcd(Path(tmp) / "tls", tls=True)
        try:
            plain.start()
            private.start()
            results = asyncio.run(measure(plain, private, args.rounds))
        finally:
            plain.stop()
            private.stop()
    for name, (latencies, rates) in results.items():
        latencies.sort()
        p99 = latencies[int(len(latencies) * 0.99)]
        print(f"{name:5} sequential put p50 {statistics.median(latencies) * 1000:.2f} ms, "
              f"p99 {p99 * 1000:.2f} ms ({len(latencies)} puts); concurrency 64: "
              f"{min(rates):.0f}-{max(rates):.0f} puts/s, median {statistics.median(rates):.0f}")


if __name__ == "__main__":
    main()
