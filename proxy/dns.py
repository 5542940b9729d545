"""The cluster DNS server: UDP and TCP on the kube-dns address, answers from the caches.

The part of CoreDNS a Schooner cluster needs, in the proxy because the proxy already
holds informer caches of Services and EndpointSlices (`dnsrecords` decides the records,
pure; this module speaks the wire format with `dnslib`). It is authoritative for the
cluster domain and nothing else: a name outside it is REFUSED, never forwarded, so
the server sends no DNS traffic anywhere. Until both caches have synced every
question is SERVFAIL, which resolvers retry, rather than an NXDOMAIN they would cache.

UDP replies are cut to 512 bytes (or the client's EDNS buffer size) with the TC bit
set, so the resolver asks again over TCP, where a reply may be up to 65,535 bytes.
TCP connections carry any number of length-prefixed queries and are closed after
`TCP_IDLE_SECONDS` without one, as CoreDNS's read timeout does.

Finding the records takes two dictionary reads, whatever the number of Services;
what costs is dnslib's parsing and packing (about 0.2 ms a query). So packed replies
are kept by question until the next change to either cache (`invalidate`, called
from the informers' event handlers, after the store has the change): a repeated
question costs a few microseconds, with the client's id and its spelling of the
name (resolvers randomise the case of names, "0x20") put back in.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
from collections.abc import Awaitable, Callable
from typing import cast

from dnslib import CLASS, CNAME, EDNS0, OPCODE, QTYPE, RR, SOA, SRV, A, DNSLabel, DNSRecord
from dnslib.dns import DNSError

from apimachinery.clock import Clock, RealClock

from . import dnsrecords
from .dnsrecords import Answer, ClusterRecords, Rcode

log = logging.getLogger(__name__)

TTL = 5  # seconds, CoreDNS's kubernetes plugin default
UDP_LIMIT = 512
EDNS_SIZE = 1232  # the UDP payload size offered to EDNS clients (DNS flag day 2020)
TCP_IDLE_SECONDS = 10.0
CACHE_SIZE = 10_000  # packed replies kept between changes; emptied when full
BIND_RETRY_SECONDS = 1.0
_SOA_TIMES = (7200, 1800, 86400, TTL)  # refresh, retry, expire, minimum: CoreDNS's
_CLASS_ANY = 255  # dnslib names it "*"


class DNSHandler:
    """Bytes in, bytes out: one query packet to its reply, whatever the transport."""

    def __init__(self, records: ClusterRecords, ready: Callable[[], bool] = lambda: True,
                 serial: int = 1) -> None:
        self.records = records
        self.ready = ready
        self._cache: dict[tuple[bytes, bytes, bytes, int, int], bytes] = {}
        zone = records.domain
        self._soa = RR(zone, QTYPE.SOA, ttl=TTL, rdata=SOA(
            f"ns.dns.{zone}", f"hostmaster.{zone}", (serial, *_SOA_TIMES)))

    def invalidate(self) -> None:
        """Forget every cached reply: call on any change to the Services or EndpointSlices."""
        self._cache.clear()

    def handle(self, packet: bytes, limit: int | None = None) -> bytes | None:
        """The reply to `packet`, or None for one too broken to answer (no header).

        `limit` is the UDP size limit without EDNS (None over TCP): a reply larger
        than it, or than the client's EDNS size, is sent as the question alone with
        TC set, so the client asks again over TCP.
        """
        packet = bytes(packet)
        key = _cache_key(packet, limit)
        if key is not None and (cached := self._cache.get(key)) is not None:
            qend = key[4]  # the client's id and its question as it spelled it (0x20 case)
            return packet[:2] + cached[2:12] + packet[12:qend] + cached[qend:]
        reply, cacheable = self._handle(packet, limit)
        if key is not None and cacheable and reply is not None:
            if len(self._cache) >= CACHE_SIZE:
                self._cache.clear()
            self._cache[key] = reply
        return reply

    def _handle(self, packet: bytes, limit: int | None) -> tuple[bytes | None, bool]:
        """The reply, and whether it may be cached (not before the caches synced)."""
        try:
            request = DNSRecord.parse(packet)
        except (DNSError, struct.error, ValueError, IndexError):
            return self._format_error(packet), False
        if request.header.qr:
            return None, False  # a response, not a query: answering could loop
        reply = request.reply(ra=0, aa=1)
        if request.header.opcode != OPCODE.QUERY:
            reply.header.rcode = 4  # NOTIMP
            return reply.pack(), False
        if len(request.questions) != 1:
            reply.header.rcode = 1  # FORMERR
            return reply.pack(), False
        question = request.q
        edns = _edns_size(request)
        ready = self.ready()
        if question.qclass not in (CLASS.IN, _CLASS_ANY):
            answer = Answer(Rcode.REFUSED)
        elif not ready:
            answer = Answer(Rcode.SERVFAIL)
        else:
            answer = self.records.answer(str(question.qname), QTYPE.get(question.qtype, ""))
        self._fill(reply, answer)
        if edns is not None:
            reply.add_ar(EDNS0(udp_len=EDNS_SIZE))
        if log.isEnabledFor(logging.DEBUG):
            log.debug("component=proxy dns=%s type=%s rcode=%s answers=%d", question.qname,
                      QTYPE.get(question.qtype, question.qtype), answer.rcode.name,
                      len(answer.answers))
        data = bytes(reply.pack())
        if limit is not None and len(data) > (edns or limit):
            short = request.reply(ra=0, aa=1)
            short.header.tc = 1
            short.header.rcode = reply.header.rcode
            if edns is not None:
                short.add_ar(EDNS0(udp_len=EDNS_SIZE))
            data = bytes(short.pack())
        return data, ready

    def _fill(self, reply: DNSRecord, answer: Answer) -> None:
        reply.header.rcode = int(answer.rcode)
        reply.header.aa = int(answer.authoritative)
        for record in answer.answers:
            reply.add_answer(_rr(record))
        for record in answer.additional:
            reply.add_ar(_rr(record))
        if answer.negative:
            reply.add_auth(self._soa)

    @staticmethod
    def _format_error(packet: bytes) -> bytes | None:
        """FORMERR echoing the query id, if at least the 12-byte header of a query arrived."""
        if len(packet) < 12 or packet[2] & 0x80:
            return None
        ident, flags = struct.unpack("!HH", packet[:4])
        flags = 0x8000 | (flags & 0x7900) | 1  # QR, the opcode and RD echoed, rcode FORMERR
        return struct.pack("!HHHHHH", ident, flags, 0, 0, 0, 0)


def _cache_key(packet: bytes, limit: int | None) -> tuple[bytes, bytes, bytes, int, int] | None:
    """What makes two queries' replies equal but for the id and the question's spelling:
    (flags, name in lower case, type + class + EDNS bytes, limit, end of the question).
    None for anything but one question and at most one additional (OPT) record, which
    takes the uncached path."""
    if len(packet) < 17 or packet[2] & 0xF8 or packet[4:10] != b"\x00\x01\x00\x00\x00\x00":
        return None  # a response, an opcode other than QUERY, or not one question alone
    if packet[10:12] not in (b"\x00\x00", b"\x00\x01"):
        return None
    end = 12
    while (length := packet[end]) != 0:
        if length & 0xC0:
            return None  # a compression pointer in the question: leave it to dnslib
        end += length + 1
        if end >= len(packet):
            return None
    qend = end + 5
    if qend > len(packet):
        return None
    return (packet[2:4], packet[12:end].lower(), packet[end:], -1 if limit is None else limit,
            qend)


def _edns_size(request: DNSRecord) -> int | None:
    """The UDP payload size to allow a client's reply under EDNS, or None without EDNS:
    what its OPT record offers (an OPT's class is that size), at least 512 and at most
    `EDNS_SIZE`."""
    for record in request.ar:
        if record.rtype == QTYPE.OPT:
            return min(max(int(record.rclass), UDP_LIMIT), EDNS_SIZE)
    return None


def _rr(record: dnsrecords.Record) -> RR:
    if isinstance(record, dnsrecords.A):
        return RR(record.name, QTYPE.A, ttl=TTL, rdata=A(record.ip))
    if isinstance(record, dnsrecords.SRV):
        return RR(record.name, QTYPE.SRV, ttl=TTL, rdata=SRV(
            record.priority, record.weight, record.port, DNSLabel(record.target)))
    return RR(record.name, QTYPE.CNAME, ttl=TTL, rdata=CNAME(record.target))


class _UDPProtocol(asyncio.DatagramProtocol):
    def __init__(self, handler: DNSHandler) -> None:
        self.handler = handler
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            reply = self.handler.handle(data, UDP_LIMIT)
        except Exception:
            log.exception("component=proxy client=%s msg=\"dns query failed\"", addr[0])
            return
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)

    def error_received(self, exc: Exception) -> None:
        log.debug("component=proxy error=%r msg=\"dns udp error\"", exc)


class DNSServer:
    """One UDP socket and one TCP listener on host:port, both answered by `handler`."""

    def __init__(self, handler: DNSHandler, host: str, port: int = 53, *,
                 clock: Clock | None = None) -> None:
        self.handler = handler
        self.host = host
        self.port = port
        self._clock: Clock = clock if clock is not None else RealClock()
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    @property
    def serving(self) -> bool:
        return self._udp is not None and self._tcp is not None

    async def start(self) -> None:
        """Bind UDP and TCP; OSError (address not there yet, port taken) leaves nothing open."""
        loop = asyncio.get_running_loop()
        udp, _ = await loop.create_datagram_endpoint(
            lambda: _UDPProtocol(self.handler), local_addr=(self.host, self.port))
        try:
            tcp = await asyncio.start_server(self._serve_tcp, self.host, self.port,
                                             reuse_address=True)
        except OSError:
            udp.close()
            raise
        self._udp, self._tcp = udp, tcp
        log.info("component=proxy listen=%s:%d domain=%s msg=\"dns serving (udp, tcp)\"",
                 self.host, self.port, self.handler.records.domain)

    async def run(self, before_bind: Callable[[], Awaitable[None]] | None = None) -> None:
        """Bind, retrying every second until it works (`before_bind` first each time,
        e.g. putting the address on `lo`), then serve until cancelled."""
        try:
            while not self.serving:
                try:
                    if before_bind is not None:
                        await before_bind()
                    await self.start()
                except Exception as exc:  # the address not there yet, `ip` failing, port taken
                    log.warning("component=proxy listen=%s:%d error=%r msg=\"dns cannot bind "
                                "yet, retrying\" in=%.1fs", self.host, self.port, exc,
                                BIND_RETRY_SECONDS)
                    await self._clock.sleep(BIND_RETRY_SECONDS)
            await asyncio.Event().wait()
        finally:
            await self.close()

    async def close(self) -> None:
        """Stop both listeners and close open TCP connections."""
        if self._udp is not None:
            self._udp.close()
            self._udp = None
        if self._tcp is not None:
            self._tcp.close()
            self._tcp = None
            log.info("component=proxy listen=%s:%d msg=\"dns stopped\"", self.host, self.port)
        connections = list(self._connections)
        for task in connections:
            task.cancel()
        if connections:
            await asyncio.gather(*connections, return_exceptions=True)

    async def _serve_tcp(self, reader: asyncio.StreamReader,
                         writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
        try:
            while True:
                header = await asyncio.wait_for(reader.readexactly(2), TCP_IDLE_SECONDS)
                (length,) = struct.unpack("!H", header)
                packet = await asyncio.wait_for(reader.readexactly(length), TCP_IDLE_SECONDS)
                reply = self.handler.handle(packet)
                if reply is None:
                    break
                writer.write(struct.pack("!H", len(reply)) + reply)
                await writer.drain()
        except (asyncio.IncompleteReadError, TimeoutError, ConnectionError):
            pass  # the client is done, idle or gone
        except asyncio.CancelledError:
            pass  # shutdown; as in the forwarder, the handler task ends normally
        except Exception:
            log.exception("component=proxy msg=\"dns tcp connection failed\"")
        finally:
            writer.close()
            # still in `_connections` while closing, so `close()` waits for it too
            with contextlib.suppress(OSError, RuntimeError, TimeoutError,
                                     asyncio.CancelledError):
                await asyncio.wait_for(writer.wait_closed(), 1.0)
            if task is not None:
                self._connections.discard(task)
