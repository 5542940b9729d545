"""EndpointSlice (discovery.k8s.io/v1): a Service's endpoints, as kubectl reads them.

The endpointslice controller keeps the slices of every Service with a selector
(labelled `kubernetes.io/service-name`); anyone may write others. Validation
is Kubernetes' ValidateEndpointSlice: `addressType` IPv4, IPv6 or FQDN and
immutable, at most 1000 endpoints of 1 to 100 addresses of that type, at
most 100 ports with unique DNS-1123 names and a protocol (defaulted to TCP).
Like Kubernetes, the service-name label is not required: a slice without it
belongs to no Service. No field selectors beyond metadata's.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from apimachinery.meta import Object, name_of
from apimachinery.models.discovery import EndpointSlice
from apimachinery.printers import Layout, age
from apimachinery.resources import ResourceInfo
from apimachinery.specialip import special_ip_problems
from apiserver.defaulting import Obj, dicts_at, set_default
from apiserver.kind import Kind, Strategy
from apiserver.validation.fields import (
    PROTOCOLS,
    Errs,
    check,
    child,
    dict_items,
    dns1123_label,
    dns1123_subdomain,
    duplicate,
    invalid,
    is_int,
    label_value,
    not_supported,
    port_number,
    qualified_name,
    required,
    too_many,
    validate_labels,
)

RESOURCE = ResourceInfo("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", True)

ADDRESS_TYPES = ("FQDN", "IPv4", "IPv6")
MAX_ENDPOINTS = 1000
MAX_ADDRESSES = 100
MAX_PORTS = 100
MAX_ZONE_HINTS = 8
ZONE_LABEL = "topology.kubernetes.io/zone"


class EndpointSliceStrategy(Strategy):
    has_status_subresource = False


def default_endpoint_slice(obj: Obj) -> None:
    """SetDefaults_EndpointPort: a port's `name` is "" and its `protocol` TCP."""
    for port in dicts_at(obj, "ports"):
        set_default(port, "name", "")
        set_default(port, "protocol", "TCP")


# -- addresses ----------------------------------------------------------------------------------

def _ip_of_family(value: str, version: int) -> list[str]:
    family = f"IPv{version}"
    try:
        if ipaddress.ip_address(value).version == version:
            return []
    except ValueError:
        pass
    return [f"must be a valid {family} address"]


def _fqdn(value: str) -> list[str]:
    """IsFullyQualifiedDomainName: a DNS subdomain of at least two labels."""
    name = value.removesuffix(".")
    problems = dns1123_subdomain(name) if name else ["must not be empty"]
    if not problems and len(name.split(".")) < 2:
        problems = ["should be a domain with at least two segments separated by dots"]
    return problems


def _check_address(address_type: Any, value: str) -> list[str]:
    """The address as its type requires; an IP also outside the special ranges."""
    if address_type == "IPv4":
        return _ip_of_family(value, 4) or special_ip_problems(value)
    if address_type == "IPv6":
        return _ip_of_family(value, 6) or special_ip_problems(value)
    if address_type == "FQDN":
        return _fqdn(value)
    return []


# -- endpoints ----------------------------------------------------------------------------------

def _validate_endpoint(endpoint: dict[str, Any], path: str, address_type: Any) -> Errs:
    errs: Errs = []
    addresses = endpoint.get("addresses")
    apath = child(path, "addresses")
    if isinstance(addresses, list):
        if not addresses:
            errs.append(required(apath, "must contain at least 1 address"))
        elif len(addresses) > MAX_ADDRESSES:
            errs.append(too_many(apath, len(addresses), MAX_ADDRESSES))
        for i, address in enumerate(addresses):
            if isinstance(address, str):
                errs += check(f"{apath}[{i}]", address,
                              lambda a: _check_address(address_type, a))
    for field, checker in (("hostname", dns1123_label), ("nodeName", dns1123_subdomain)):
        value = endpoint.get(field)
        if isinstance(value, str):
            errs += check(child(path, field), value, checker)
    zone = endpoint.get("zone")
    if isinstance(zone, str):
        errs += check(child(path, "zone"), zone, label_value)
    errs += validate_labels(endpoint.get("deprecatedTopology"),
                            child(path, "deprecatedTopology"))
    errs += _validate_hints(endpoint.get("hints"), child(path, "hints"))
    return errs


def _validate_hints(hints: Any, path: str) -> Errs:
    """validateHints: at most 8 zones, each a label value, none twice."""
    if not isinstance(hints, dict):
        return []
    zones = dict_items(hints.get("forZones"))
    zpath = child(path, "forZones")
    errs: Errs = []
    if len(zones) > MAX_ZONE_HINTS:
        errs.append(too_many(zpath, len(zones), MAX_ZONE_HINTS))
    seen: set[str] = set()
    for i, zone in zones:
        name = zone.get("name")
        if not isinstance(name, str):
            continue
        npath = f"{zpath}[{i}].name"
        if name in seen:
            errs.append(duplicate(npath, name))
        seen.add(name)
        errs += check(npath, name, label_value)
    return errs


# -- ports --------------------------------------------------------------------------------------

def _validate_port(port: dict[str, Any], path: str, names: set[str]) -> Errs:
    errs: Errs = []
    name = port.get("name")
    if isinstance(name, str):
        if name:
            errs += check(child(path, "name"), name, dns1123_label)
        if name in names:
            errs.append(duplicate(child(path, "name"), name))
        names.add(name)
    protocol = port.get("protocol")
    if protocol is None or protocol == "":
        errs.append(required(child(path, "protocol")))
    elif isinstance(protocol, str) and protocol not in PROTOCOLS:
        errs.append(not_supported(child(path, "protocol"), protocol, PROTOCOLS))
    number = port.get("port")
    if is_int(number):
        errs += check(child(path, "port"), number, port_number)
    app_protocol = port.get("appProtocol")
    if isinstance(app_protocol, str):
        errs += check(child(path, "appProtocol"), app_protocol, qualified_name)
    return errs


# -- the object ---------------------------------------------------------------------------------

def validate_endpoint_slice(obj: Object, old: Object | None) -> Errs:
    """ValidateEndpointSlice(Create|Update): address type, endpoints and ports."""
    errs: Errs = []
    address_type = obj.get("addressType")
    if old is not None:
        if address_type != old.get("addressType"):
            errs.append(invalid("addressType", address_type, "field is immutable"))
    elif not address_type:
        errs.append(required("addressType"))
    elif isinstance(address_type, str) and address_type not in ADDRESS_TYPES:
        errs.append(not_supported("addressType", address_type, ADDRESS_TYPES))
    endpoints = obj.get("endpoints")
    if isinstance(endpoints, list) and len(endpoints) > MAX_ENDPOINTS:
        errs.append(too_many("endpoints", len(endpoints), MAX_ENDPOINTS))
    for i, endpoint in dict_items(endpoints):
        errs += _validate_endpoint(endpoint, f"endpoints[{i}]", address_type)
    ports = obj.get("ports")
    if isinstance(ports, list) and len(ports) > MAX_PORTS:
        errs.append(too_many("ports", len(ports), MAX_PORTS))
    names: set[str] = set()
    for i, port in dict_items(ports):
        errs += _validate_port(port, f"ports[{i}]", names)
    return errs


# -- table --------------------------------------------------------------------------------------

def _more(items: list[str], count: int, limit: int = 3) -> str:
    """listWithMoreString: the first three, then `+ N more...`; `<unset>` for none."""
    text = ",".join(items[:limit])
    if count > limit:
        return f"{text} + {count - limit} more..."
    return text or "<unset>"


def format_ports(slice_: Object) -> str:
    """formatDiscoveryPorts: each port's number, else its name, else `*`."""
    shown = []
    for port in slice_.get("ports") or []:
        number, name = port.get("port"), port.get("name")
        shown.append(str(number) if number is not None else name if name is not None else "*")
    return _more(shown, len(shown))


def format_endpoints(slice_: Object) -> str:
    """formatDiscoveryEndpoints: every endpoint's addresses, in order."""
    addresses = [a for e in slice_.get("endpoints") or [] for a in e.get("addresses") or []]
    return _more(addresses, len(addresses))


TABLE = Layout("Name,AddressType,Ports,Endpoints,Age", lambda o, now: [
    name_of(o), o.get("addressType", ""), format_ports(o), format_endpoints(o), age(o, now)])

KIND = Kind(
    resource=RESOURCE,
    model=EndpointSlice,
    strategy=EndpointSliceStrategy(),
    default=default_endpoint_slice,
    validate=validate_endpoint_slice,
    table=TABLE,
)
