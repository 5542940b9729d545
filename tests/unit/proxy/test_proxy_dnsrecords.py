"""dnsrecords: which records a cluster name has, from Services and EndpointSlices."""

from __future__ import annotations

import pytest

from proxy.dnsrecords import CNAME, SRV, A, Answer, ClusterRecords, Rcode, ready_addresses
from tests.unit.proxy.dns_fakes import FakeCache, endpoints, service

WEB = service("web", ip="172.28.255.20")
DB = service("db", ip="None", ports=[{"name": "pg", "port": 5432, "protocol": "TCP"}])
DB_EPS = endpoints("db", [{"ip": "10.1.0.5", "hostname": "db-0"},
                          {"ip": "10.1.1.7", "hostname": "db-1"}],
                   ports=[{"name": "pg", "port": 5433, "protocol": "TCP"}],
                   not_ready=[{"ip": "10.1.2.9", "hostname": "db-2"}])
EMPTY = service("empty", ip="None")
EXT = service("ext", ip=None, type="ExternalName", externalName="Example.COM.")
PLAIN_EPS = endpoints("web", [{"ip": "10.1.0.8"}])


def records(domain: str = "cluster.local") -> ClusterRecords:
    return ClusterRecords(FakeCache(WEB, DB, EMPTY, EXT), FakeCache(DB_EPS, PLAIN_EPS), domain)


@pytest.mark.parametrize("qname", [
    "web.default.svc.cluster.local", "web.default.svc.cluster.local.",
    "WEB.Default.SVC.cluster.LOCAL."])
def test_a_service_name_is_its_cluster_ip_case_and_dot_insensitive(qname: str) -> None:
    assert records().answer(qname, "A") == Answer(
        Rcode.NOERROR, [A("web.default.svc.cluster.local", "172.28.255.20")])


def test_a_headless_service_is_every_ready_endpoint() -> None:
    answer = records().answer("db.default.svc.cluster.local", "A")
    assert answer.rcode == Rcode.NOERROR
    assert [r.ip for r in answer.answers if isinstance(r, A)] == ["10.1.0.5", "10.1.1.7"]


def test_a_headless_service_without_ready_endpoints_is_nxdomain() -> None:
    assert records().answer("empty.default.svc.cluster.local", "A").rcode == Rcode.NXDOMAIN


def test_an_endpoint_hostname_is_its_address_and_not_ready_ones_do_not_exist() -> None:
    r = records()
    assert r.answer("db-1.db.default.svc.cluster.local", "A").answers == [
        A("db-1.db.default.svc.cluster.local", "10.1.1.7")]
    assert r.answer("db-2.db.default.svc.cluster.local", "A").rcode == Rcode.NXDOMAIN
    assert r.answer("db-9.db.default.svc.cluster.local", "A").rcode == Rcode.NXDOMAIN


def test_an_endpoint_without_hostname_answers_to_its_dashed_ip() -> None:
    assert records().answer("10-1-0-8.web.default.svc.cluster.local", "A").answers == [
        A("10-1-0-8.web.default.svc.cluster.local", "10.1.0.8")]


def test_aaaa_and_other_types_for_an_existing_name_are_noerror_without_answers() -> None:
    for qtype in ("AAAA", "MX", "TXT"):
        answer = records().answer("web.default.svc.cluster.local", qtype)
        assert answer == Answer(Rcode.NOERROR) and answer.negative


def test_srv_for_a_cluster_ip_service_points_at_the_service_name() -> None:
    answer = records().answer("_http._tcp.web.default.svc.cluster.local", "SRV")
    assert answer.answers == [SRV("_http._tcp.web.default.svc.cluster.local", 80,
                                  "web.default.svc.cluster.local")]
    assert answer.additional == [A("web.default.svc.cluster.local", "172.28.255.20")]


def test_srv_for_a_headless_service_is_one_record_per_endpoint_on_its_target_port() -> None:
    answer = records().answer("_pg._tcp.db.default.svc.cluster.local", "SRV")
    assert [(r.port, r.target) for r in answer.answers if isinstance(r, SRV)] == [
        (5433, "db-0.db.default.svc.cluster.local"), (5433, "db-1.db.default.svc.cluster.local")]
    assert [r.ip for r in answer.additional if isinstance(r, A)] == ["10.1.0.5", "10.1.1.7"]


def test_srv_for_an_unknown_port_or_protocol_is_nxdomain() -> None:
    r = records()
    assert r.answer("_https._tcp.web.default.svc.cluster.local", "SRV").rcode == Rcode.NXDOMAIN
    assert r.answer("_http._udp.web.default.svc.cluster.local", "SRV").rcode == Rcode.NXDOMAIN


def test_an_external_name_service_is_a_cname() -> None:
    assert records().answer("ext.default.svc.cluster.local", "A").answers == [
        CNAME("ext.default.svc.cluster.local", "example.com")]


@pytest.mark.parametrize("qname", [
    "nothere.default.svc.cluster.local", "web.other.svc.cluster.local",
    "other.svc.cluster.local", "a.b.web.default.svc.cluster.local",
    "something.cluster.local", "10-1-0-5.default.pod.cluster.local"])
def test_names_under_the_domain_that_do_not_exist_are_nxdomain(qname: str) -> None:
    answer = records().answer(qname, "A")
    assert answer.rcode == Rcode.NXDOMAIN and answer.authoritative and answer.negative


@pytest.mark.parametrize("qname", [
    "cluster.local", "svc.cluster.local", "default.svc.cluster.local."])
def test_the_zone_its_svc_and_a_namespace_with_services_exist_without_addresses(
        qname: str) -> None:
    assert records().answer(qname, "A") == Answer(Rcode.NOERROR)


@pytest.mark.parametrize("qname", [
    "example.com", "web.default.svc.cluster.local.example.com", "notcluster.local",
    "localhost", "."])
def test_names_outside_the_domain_are_refused(qname: str) -> None:
    answer = records().answer(qname, "A")
    assert answer.rcode == Rcode.REFUSED and not answer.authoritative
    assert not answer.negative  # no SOA: the zone is not ours


def test_another_cluster_domain() -> None:
    r = records("Lab.Example.")
    assert r.answer("web.default.svc.lab.example", "A").answers == [
        A("web.default.svc.lab.example", "172.28.255.20")]
    assert r.answer("web.default.svc.cluster.local", "A").rcode == Rcode.REFUSED


def test_ready_addresses_merge_slices_skipping_repeats_empty_and_ipv6() -> None:
    slices = [
        {"metadata": {"name": "a"}, "addressType": "IPv4", "endpoints": [
            {"addresses": ["10.0.0.1"]}, {"addresses": []}, {"addresses": [""]}]},
        {"metadata": {"name": "b"}, "addressType": "IPv4", "endpoints": [
            {"addresses": ["10.0.0.1"], "hostname": "x"}, {"addresses": ["10.0.0.2"]},
            {"addresses": ["10.0.0.3"], "conditions": {"ready": False}}]},
        {"metadata": {"name": "c"}, "addressType": "IPv6", "endpoints": [
            {"addresses": ["fd00::1"]}]}]
    assert ready_addresses(slices) == [("10.0.0.1", "10-0-0-1"), ("10.0.0.2", "10-0-0-2")]
    assert ready_addresses([]) == []


def test_a_statefulset_hostname_from_a_second_slice_and_srv_ports_from_slices() -> None:
    second = endpoints("db", [{"ip": "10.1.3.3", "hostname": "db-3"}],
                       ports=[{"name": "pg", "port": 5433, "protocol": "TCP"}])
    second["metadata"]["name"] = "db-zzzzz"
    r = ClusterRecords(FakeCache(DB), FakeCache(DB_EPS, second))
    assert r.answer("db-3.db.default.svc.cluster.local", "A").answers == [
        A("db-3.db.default.svc.cluster.local", "10.1.3.3")]
    srv = r.answer("_pg._tcp.db.default.svc.cluster.local", "SRV").answers
    assert [(s.target, s.port) for s in srv if isinstance(s, SRV)] == [
        ("db-0.db.default.svc.cluster.local", 5433), ("db-1.db.default.svc.cluster.local", 5433),
        ("db-3.db.default.svc.cluster.local", 5433)]


def test_a_slice_labelled_for_another_service_is_not_this_ones() -> None:
    other = endpoints("db", [{"ip": "10.1.9.9", "hostname": "db-9"}])
    other["metadata"]["labels"]["kubernetes.io/service-name"] = "web"
    unlabelled = endpoints("db", [{"ip": "10.1.9.8", "hostname": "db-8"}])
    unlabelled["metadata"]["name"] = "db-yyyyy"
    del unlabelled["metadata"]["labels"]
    r = ClusterRecords(FakeCache(DB), FakeCache(other, unlabelled))
    assert r.answer("db.default.svc.cluster.local", "A").rcode == Rcode.NXDOMAIN
