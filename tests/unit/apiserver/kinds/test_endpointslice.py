"""EndpointSlice: defaults, Kubernetes' validation rules, immutability, the table row."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from apiserver.kinds import registry
from apiserver.kinds.discovery.endpointslice import (
    default_endpoint_slice,
    format_endpoints,
    format_ports,
)
from tests.unit.apiserver.validation_objects import (
    DELETE,
    assert_error,
    changed,
    endpoint_slice,
    endpoints,
    problems,
)

KIND = registry().by_plural("endpointslices")


def slice_with(**changes: Any) -> dict[str, Any]:
    return changed(endpoint_slice(), {k.replace("__", "/"): v for k, v in changes.items()})


def test_the_resource_is_discovery_v1_namespaced_without_short_names() -> None:
    r = KIND.resource
    assert (r.group, r.version, r.kind, r.namespaced, r.short_names) == (
        "discovery.k8s.io", "v1", "EndpointSlice", True, ())


def test_ports_default_to_an_empty_name_and_tcp() -> None:
    obj: dict[str, Any] = {"ports": [{"port": 80}, {"name": "dns", "protocol": "UDP"}]}
    default_endpoint_slice(obj)
    assert obj["ports"] == [{"port": 80, "name": "", "protocol": "TCP"},
                            {"name": "dns", "protocol": "UDP"}]


def test_a_valid_slice_passes() -> None:
    assert problems("endpointslices", endpoint_slice()) == []


def test_address_type_is_required_and_one_of_three() -> None:
    assert_error(problems("endpointslices", slice_with(addressType=DELETE)),
                 "addressType", "Required value")
    assert_error(problems("endpointslices", slice_with(addressType="IPv5")), "addressType",
                 'Unsupported value: "IPv5": supported values: "FQDN", "IPv4", "IPv6"')


def test_address_type_is_immutable() -> None:
    old = endpoint_slice()
    new = slice_with(addressType="IPv6", endpoints__0__addresses=["fd00::1"])
    assert_error(problems("endpointslices", new, old), "addressType",
                 'Invalid value: "IPv6": field is immutable')


def test_addresses_must_be_of_the_address_type() -> None:
    assert_error(problems("endpointslices", slice_with(endpoints__0__addresses=["fd00::1"])),
                 "endpoints[0].addresses[0]", "must be a valid IPv4 address")
    ipv6 = slice_with(addressType="IPv6", endpoints__0__addresses=["10.0.0.1"])
    assert_error(problems("endpointslices", ipv6), "endpoints[0].addresses[0]",
                 "must be a valid IPv6 address")
    fqdn = slice_with(addressType="FQDN", endpoints__0__addresses=["db.example.com"])
    assert problems("endpointslices", fqdn) == []


def test_an_endpoint_has_one_to_a_hundred_addresses() -> None:
    assert_error(problems("endpointslices", slice_with(endpoints__0__addresses=[])),
                 "endpoints[0].addresses", "must contain at least 1 address")
    many = [f"10.0.{i // 256}.{i % 256}" for i in range(101)]
    assert_error(problems("endpointslices", slice_with(endpoints__0__addresses=many)),
                 "endpoints[0].addresses", "Too many: 101: must have at most 100 items")


def test_a_slice_has_at_most_a_thousand_endpoints() -> None:
    endpoints = [{"addresses": [f"10.1.{i // 256}.{i % 256}"]} for i in range(1001)]
    assert_error(problems("endpointslices", slice_with(endpoints=endpoints)), "endpoints",
                 "Too many: 1001: must have at most 1000 items")
    assert problems("endpointslices", slice_with(endpoints=endpoints[:1000])) == []


def test_hostname_node_name_and_zone_are_checked() -> None:
    assert_error(problems("endpointslices", slice_with(endpoints__0__hostname="A_b")),
                 "endpoints[0].hostname", "RFC 1123 label")
    assert_error(problems("endpointslices", slice_with(endpoints__0__nodeName="Node_1")),
                 "endpoints[0].nodeName", "RFC 1123 subdomain")
    assert_error(problems("endpointslices", slice_with(endpoints__0__zone="a b")),
                 "endpoints[0].zone", "Invalid value")


def test_port_names_are_unique_labels_and_protocols_known() -> None:
    twice = slice_with(ports__1={"name": "http", "protocol": "TCP", "port": 81})
    assert_error(problems("endpointslices", twice), "ports[1].name", 'Duplicate value: "http"')
    assert_error(problems("endpointslices", slice_with(ports__0__name="HTTP")),
                 "ports[0].name", "RFC 1123 label")
    assert_error(problems("endpointslices", slice_with(ports__0__protocol="ICMP")),
                 "ports[0].protocol", 'Unsupported value: "ICMP"')
    assert_error(problems("endpointslices", slice_with(ports__0__port=70000)),
                 "ports[0].port", "between 1 and 65535")


def test_at_most_a_hundred_ports() -> None:
    ports = [{"name": f"p{i}", "protocol": "TCP", "port": 1000 + i} for i in range(101)]
    assert_error(problems("endpointslices", slice_with(ports=ports)), "ports",
                 "Too many: 101: must have at most 100 items")


def test_an_endpoint_without_addresses_is_refused_by_the_model() -> None:
    errs = problems("endpointslices", slice_with(endpoints__0__addresses=DELETE))
    assert_error(errs, "endpoints[0].addresses", "Required value")


def test_table_row_is_kubectls() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    obj = slice_with(metadata__creationTimestamp="2025-12-31T23:59:00Z")
    assert KIND.table is not None
    assert KIND.table.columns == "Name,AddressType,Ports,Endpoints,Age"
    assert KIND.table.row(obj, now) == ["web-abc12", "IPv4", "8080", "10.244.1.5", "60s"]


def test_ports_and_endpoints_columns_show_three_then_more() -> None:
    obj = {"ports": [{"port": 1}, {"name": "x"}, {}, {"port": 4}],
           "endpoints": [{"addresses": [f"10.0.0.{i}"]} for i in range(5)]}
    assert format_ports(obj) == "1,x,* + 1 more..."
    assert format_endpoints(obj) == "10.0.0.0,10.0.0.1,10.0.0.2 + 2 more..."
    assert format_ports({}) == format_endpoints({}) == "<unset>"


def test_special_addresses_are_refused_as_kubernetes_refuses_them() -> None:
    for address_type, address, message in [
            ("IPv4", "127.0.0.1", "may not be in the loopback range"),
            ("IPv4", "0.0.0.0", "may not be unspecified"),
            ("IPv4", "169.254.169.254", "may not be in the link-local range"),
            ("IPv4", "224.0.0.5", "may not be in the link-local multicast range"),
            ("IPv6", "::1", "may not be in the loopback range"),
            ("IPv6", "fe80::2", "may not be in the link-local range")]:
        refused = slice_with(addressType=address_type, endpoints__0__addresses=[address])
        assert_error(problems("endpointslices", refused), "endpoints[0].addresses[0]",
                     message)


def test_endpoints_refuse_special_addresses_in_ready_and_not_ready_ones() -> None:
    refused = changed(endpoints(), {"subsets/0/addresses/0/ip": "127.0.0.1"})
    assert_error(problems("endpoints", refused), "subsets[0].addresses[0].ip",
                 "may not be in the loopback range (127.0.0.0/8, ::1/128)")
    not_ready = changed(endpoints(), {"subsets/0/notReadyAddresses": [{"ip": "169.254.1.1"}]})
    assert_error(problems("endpoints", not_ready), "subsets[0].notReadyAddresses[0].ip",
                 "may not be in the link-local range")
    assert problems("endpoints", endpoints()) == []
