"""A hostile client in a process of its own: `CONCURRENCY` connections sending GETs
back to back, never backing off, until `TOTAL` answers or `SECONDS` have passed.

Run as `python -m tests.integration.flood_client URL TOKEN CA_FILE CONCURRENCY TOTAL
SECONDS`; prints one JSON line: answers by status code, the Retry-After values of the
429s, how many 429 bodies were not Kubernetes' Status, and transport errors. A process
apart, so the flood's client CPU is not the measuring side's (test_flowcontrol_flood).
"""

from __future__ import annotations

import asyncio
import json
import ssl
import sys
import time
from collections import Counter

import aiohttp

EXPECTED_429 = {"kind": "Status", "reason": "TooManyRequests", "code": 429,
                "message": "Too many requests, please try again later."}


async def flood(url: str, token: str, ca_file: str, concurrency: int, total: int,
                seconds: float) -> dict[str, object]:
    codes: Counter[int] = Counter()
    retry_after: Counter[str] = Counter()
    bad_bodies = errors = 0
    sent = 0
    deadline = time.monotonic() + seconds
    context = ssl.create_default_context(cafile=ca_file)
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    connector = aiohttp.TCPConnector(limit=concurrency, ssl=context)

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal sent, bad_bodies, errors
        while sent < total and time.monotonic() < deadline:
            sent += 1
            try:
                async with session.get(url) as resp:
                    body = await resp.read()
                    codes[resp.status] += 1
                    if resp.status == 429:
                        retry_after[resp.headers.get("Retry-After", "")] += 1
                        status = json.loads(body)
                        if any(status.get(k) != v for k, v in EXPECTED_429.items()):
                            bad_bodies += 1
            except (TimeoutError, aiohttp.ClientError):
                errors += 1

    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, headers=headers,
                                     timeout=timeout) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    return {"sent": sent, "codes": {str(k): v for k, v in codes.items()},
            "retry_after": dict(retry_after), "bad_429_bodies": bad_bodies,
            "transport_errors": errors}


def main() -> None:
    url, token, ca_file, concurrency, total, seconds = sys.argv[1:7]
    result = asyncio.run(flood(url, token, ca_file, int(concurrency), int(total),
                               float(seconds)))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
