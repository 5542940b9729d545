"""Endpoints (core/v1): the addresses behind a Service, kept by the endpoints controller.

The proxies follow them to balance a Service's traffic. Addresses must be
valid IPs outside the unspecified, loopback and link-local ranges (Kubernetes'
ValidateEndpointIP), ports well formed and named when there are several.
"""

from __future__ import annotations

from apimachinery.meta import Object
from apimachinery.models import Endpoints
from apimachinery.printers import LAYOUTS
from apimachinery.resources import ResourceInfo
from apimachinery.specialip import special_ip_problems
from apiserver.defaulting import Obj, dicts_at, set_default
from apiserver.kind import Kind, Strategy
from apiserver.validation.fields import (
    Errs,
    check,
    child,
    dict_items,
    dns1123_label,
    dns1123_subdomain,
    ip_address,
    is_int,
    port_number,
    port_protocol,
    required,
    unique_label,
)

RESOURCE = ResourceInfo("", "v1", "Endpoints", "endpoints", True, ("ep",))


class EndpointsStrategy(Strategy):
    has_status_subresource = False


def default_endpoints(obj: Obj) -> None:
    """SetDefaults_EndpointPort: `protocol: TCP`."""
    for subset in dicts_at(obj, "subsets"):
        for port in dicts_at(subset, "ports"):
            set_default(port, "protocol", "TCP")


def validate_endpoints(obj: Object, old: Object | None) -> Errs:
    """ValidateEndpoints: every subset has addresses with valid IPs and well-formed ports."""
    errs: Errs = []
    for i, subset in dict_items(obj.get("subsets")):
        spath = f"subsets[{i}]"
        if not subset.get("addresses") and not subset.get("notReadyAddresses"):
            errs.append(required(spath, "must specify `addresses` or `notReadyAddresses`"))
        for key in ("addresses", "notReadyAddresses"):
            for j, address in dict_items(subset.get(key)):
                apath = f"{child(spath, key)}[{j}]"
                ip = address.get("ip")
                if isinstance(ip, str):
                    errs += check(child(apath, "ip"), ip,
                                  lambda v: ip_address(v) or special_ip_problems(v))
                for field, checker in (("hostname", dns1123_label),
                                       ("nodeName", dns1123_subdomain)):
                    value = address.get(field)
                    if isinstance(value, str) and value:
                        errs += check(child(apath, field), value, checker)
        ports = dict_items(subset.get("ports"))
        names: set[str] = set()
        for j, port in ports:
            ppath = f"{child(spath, 'ports')}[{j}]"
            name = port.get("name")
            if len(ports) > 1 and not name:
                errs.append(required(child(ppath, "name")))
            elif isinstance(name, str) and name:
                errs += unique_label(child(ppath, "name"), name, names)
            if is_int(port.get("port")):
                errs += check(child(ppath, "port"), port["port"], port_number)
            errs += port_protocol(port, ppath)
    return errs


KIND = Kind(
    resource=RESOURCE,
    model=Endpoints,
    strategy=EndpointsStrategy(),
    default=default_endpoints,
    validate=validate_endpoints,
    table=LAYOUTS["Endpoints"],
)
