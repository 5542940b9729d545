"""dns: the cluster DNS server on 127.0.0.1, queried with dnslib's client over UDP and TCP."""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Awaitable, Callable

import pytest
from dnslib import CLASS, EDNS0, QTYPE, RCODE, DNSQuestion, DNSRecord

from apimachinery.clock import FakeClock
from proxy.dns import DNSHandler, DNSServer
from proxy.dnsrecords import ClusterRecords
from tests.unit.proxy.dns_fakes import FakeCache, endpoints, service

HOST = "127.0.0.1"
WEB = service("web", ip="172.28.255.20")
# 100 ready endpoints: about 1.7 kB of A records, more than fits in 512 bytes of UDP
MANY = service("many", ip="None")
MANY_EPS = endpoints("many", [{"ip": f"10.1.0.{i}"} for i in range(1, 101)])


def run(body: Callable[[], Awaitable[None]]) -> None:
    """Run an async test body, then fail if it left any task behind."""

    async def main() -> None:
        await body()
        leaked = asyncio.all_tasks() - {asyncio.current_task()}
        assert not leaked, f"leaked tasks: {leaked}"

    asyncio.run(main())


def free_udp_and_tcp_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind((HOST, 0))
            port = int(tcp.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind((HOST, port))
                except OSError:
                    continue
                return port
    raise AssertionError("no port free for both UDP and TCP")


def handler(ready: Callable[[], bool] = lambda: True) -> DNSHandler:
    return DNSHandler(ClusterRecords(FakeCache(WEB, MANY), FakeCache(MANY_EPS)), ready)


async def ask(port: int, qname: str, qtype: str = "A", *, tcp: bool = False,
              edns: int | None = None) -> DNSRecord:
    query = DNSRecord.question(qname, qtype)
    if edns is not None:
        query.add_ar(EDNS0(udp_len=edns))
    raw = await asyncio.to_thread(query.send, HOST, port, tcp=tcp, timeout=5)
    reply = DNSRecord.parse(raw)
    assert reply.header.id == query.header.id
    return reply


def addresses(reply: DNSRecord) -> list[str]:
    return [str(rr.rdata) for rr in reply.rr if rr.rtype == QTYPE.A]


def serve(body: Callable[[int], Awaitable[None]],
          ready: Callable[[], bool] = lambda: True) -> None:
    async def main() -> None:
        port = free_udp_and_tcp_port()
        server = DNSServer(handler(ready), HOST, port)
        await server.start()
        try:
            await body(port)
        finally:
            await server.close()

    run(main)


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
def test_a_service_name_is_answered_authoritatively_without_recursion(tcp: bool) -> None:
    async def body(port: int) -> None:
        reply = await ask(port, "Web.Default.svc.cluster.local.", tcp=tcp)
        assert (RCODE[reply.header.rcode], reply.header.aa, reply.header.ra) == (
            "NOERROR", 1, 0)
        assert addresses(reply) == ["172.28.255.20"]
        assert reply.rr[0].ttl == 5
        assert str(reply.q.qname) == "Web.Default.svc.cluster.local."

    serve(body)


def test_nxdomain_carries_the_zone_soa_and_aaaa_is_empty_noerror() -> None:
    async def body(port: int) -> None:
        missing = await ask(port, "nothere.default.svc.cluster.local")
        assert RCODE[missing.header.rcode] == "NXDOMAIN" and not missing.rr
        assert [(str(a.rname), a.rtype) for a in missing.auth] == [
            ("cluster.local.", QTYPE.SOA)]
        aaaa = await ask(port, "web.default.svc.cluster.local", "AAAA")
        assert RCODE[aaaa.header.rcode] == "NOERROR" and not aaaa.rr
        assert [a.rtype for a in aaaa.auth] == [QTYPE.SOA]

    serve(body)


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
def test_names_outside_the_cluster_domain_are_refused(tcp: bool) -> None:
    async def body(port: int) -> None:
        reply = await ask(port, "example.com", tcp=tcp)
        assert RCODE[reply.header.rcode] == "REFUSED"
        assert (reply.header.aa, reply.rr, reply.auth) == (0, [], [])

    serve(body)


def test_servfail_until_the_caches_have_synced() -> None:
    synced = False

    async def body(port: int) -> None:
        nonlocal synced
        assert RCODE[(await ask(port, "web.default.svc.cluster.local")).header.rcode] == (
            "SERVFAIL")
        synced = True
        assert addresses(await ask(port, "web.default.svc.cluster.local")) == ["172.28.255.20"]

    serve(body, ready=lambda: synced)


def test_a_large_udp_reply_is_truncated_and_whole_over_tcp() -> None:
    async def body(port: int) -> None:
        udp = await ask(port, "many.default.svc.cluster.local")
        assert udp.header.tc == 1 and not udp.rr
        assert str(udp.q.qname) == "many.default.svc.cluster.local."
        tcp = await ask(port, "many.default.svc.cluster.local", tcp=True)
        assert tcp.header.tc == 0
        assert addresses(tcp) == [f"10.1.0.{i}" for i in range(1, 101)]
        # an EDNS client that takes 4096 bytes is still held to 1232: still truncated
        edns = await ask(port, "many.default.svc.cluster.local", edns=4096)
        assert edns.header.tc == 1 and [r.rtype for r in edns.ar] == [QTYPE.OPT]

    serve(body)


def test_several_queries_on_one_tcp_connection() -> None:
    async def body(port: int) -> None:
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            for qname in ("web.default.svc.cluster.local", "nothere.default.svc.cluster.local"):
                packet = DNSRecord.question(qname).pack()
                writer.write(struct.pack("!H", len(packet)) + packet)
            await writer.drain()
            codes = []
            for _ in range(2):
                (length,) = struct.unpack("!H", await reader.readexactly(2))
                codes.append(RCODE[DNSRecord.parse(await reader.readexactly(length))
                                   .header.rcode])
            assert codes == ["NOERROR", "NXDOMAIN"]
        finally:
            writer.close()
            await writer.wait_closed()

    serve(body)


def test_malformed_packets_get_formerr_or_nothing_and_the_server_goes_on() -> None:
    async def body(port: int) -> None:
        loop = asyncio.get_running_loop()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.setblocking(False)
            await loop.sock_connect(sock, (HOST, port))
            await loop.sock_sendall(sock, b"\x12\x34")  # not even a header: no reply
            # a header saying one question, then garbage
            await loop.sock_sendall(sock, b"\x12\x35\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
                                          b"\xff\xff")
            reply = await asyncio.wait_for(loop.sock_recv(sock, 512), 5)
        assert reply[:2] == b"\x12\x35" and reply[3] & 0x0F == 1  # same id, FORMERR
        assert addresses(await ask(port, "web.default.svc.cluster.local")) == ["172.28.255.20"]

    serve(body)


def test_a_class_other_than_in_is_refused() -> None:
    query = DNSRecord(q=DNSQuestion("web.default.svc.cluster.local", QTYPE.A, CLASS.CH))
    reply = handler().handle(query.pack())
    assert reply is not None and RCODE[DNSRecord.parse(reply).header.rcode] == "REFUSED"


def test_responses_are_not_answered() -> None:
    query = DNSRecord.question("web.default.svc.cluster.local")
    query.header.qr = 1
    assert handler().handle(query.pack()) is None


def test_run_retries_binding_until_the_port_is_free() -> None:
    async def body() -> None:
        clock = FakeClock()
        port = free_udp_and_tcp_port()
        blocker = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        blocker.bind((HOST, port))
        blocker.listen()
        prepared = 0

        async def before_bind() -> None:
            nonlocal prepared
            prepared += 1

        server = DNSServer(handler(), HOST, port, clock=clock)
        task = asyncio.create_task(server.run(before_bind))
        try:
            for _ in range(100):
                if clock.sleepers:
                    break
                await asyncio.sleep(0)
            assert clock.sleepers == 1 and not server.serving and prepared == 1
            blocker.close()
            clock.step(1.0)
            for _ in range(100):
                if server.serving:
                    break
                await asyncio.sleep(0.01)
            assert server.serving and prepared == 2
            assert addresses(await ask(port, "web.default.svc.cluster.local", tcp=True)) == [
                "172.28.255.20"]
        finally:
            blocker.close()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        assert not server.serving

    run(body)


def test_a_thousand_services_each_answer_with_their_own_address_cold_and_cached() -> None:
    """Correctness at size, cold (looked up) and warm (the cached reply re-addressed);
    how fast that is belongs in a benchmark, not in a timed test."""
    services = [service(f"svc-{i}", ns=f"ns-{i % 20}", ip=f"172.28.{i // 250}.{i % 250 + 1}")
                for i in range(1000)]
    dns = DNSHandler(ClusterRecords(FakeCache(*services), FakeCache()))
    for _ in range(2):
        for i in range(0, 1000, 7):
            question = DNSRecord.question(f"svc-{i}.ns-{i % 20}.svc.cluster.local")
            reply = DNSRecord.parse(dns.handle(question.pack(), 512) or b"")
            assert reply.header.id == question.header.id
            assert [str(rr.rdata) for rr in reply.rr] == [f"172.28.{i // 250}.{i % 250 + 1}"]


def test_a_repeated_question_gets_its_own_id_and_spelling_back() -> None:
    dns = handler()
    first = DNSRecord.question("web.default.svc.cluster.local")
    assert dns.handle(first.pack()) is not None
    again = DNSRecord.question("WeB.dEfAuLt.svc.CLUSTER.local")
    reply = DNSRecord.parse(dns.handle(again.pack()) or b"")
    assert reply.header.id == again.header.id != first.header.id
    assert str(reply.q.qname) == "WeB.dEfAuLt.svc.CLUSTER.local."
    assert addresses(reply) == ["172.28.255.20"]
    assert str(reply.rr[0].rname).lower() == "web.default.svc.cluster.local."


def test_replies_follow_the_caches_once_invalidated() -> None:
    services = FakeCache(WEB)
    dns = DNSHandler(ClusterRecords(services, FakeCache()))

    def ask_now() -> list[str]:
        raw = dns.handle(DNSRecord.question("web.default.svc.cluster.local").pack(), 512)
        return addresses(DNSRecord.parse(raw or b""))

    assert ask_now() == ["172.28.255.20"]
    services.items["default/web"] = service("web", ip="172.28.255.21")
    dns.invalidate()  # what the informers' event handlers do, after the store changed
    assert ask_now() == ["172.28.255.21"]
    del services.items["default/web"]
    dns.invalidate()
    assert ask_now() == []
