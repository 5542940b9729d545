"""Services as environment variables (kubelet's getServiceEnvVarMap and envvars.FromServices).

Every container sees the `kubernetes` Service of the `default` namespace as
`KUBERNETES_SERVICE_HOST`/`KUBERNETES_SERVICE_PORT` (and its link variables), which is
how `load_incluster_config()` finds the apiserver; with `enableServiceLinks` (default
true) every Service of the pod's own namespace that has a ClusterIP is there too:
`{NAME}_SERVICE_HOST`, `{NAME}_SERVICE_PORT`, `{NAME}_SERVICE_PORT_{PORTNAME}` for
named ports, and Docker's link variables `{NAME}_PORT`, `{NAME}_PORT_{port}_{PROTO}`
with `_PROTO`, `_PORT` and `_ADDR` (names upper-cased, `-` as `_`). A pod's own
`env` wins over these; they are the base it builds on (and `$(VAR)` may name them).
Pure: the Services are given.
"""

from __future__ import annotations

from apimachinery.meta import Object

MASTER_NAMESPACE = "default"
MASTER_SERVICES = frozenset({"kubernetes"})


def _ip_set(service: Object) -> bool:
    ip = (service.get("spec") or {}).get("clusterIP")
    return bool(ip) and ip != "None"


def _name(text: str) -> str:
    return text.replace("-", "_").upper()


def visible_services(services: list[Object], namespace: str,
                     enable_service_links: bool) -> list[Object]:
    """The Services a pod in `namespace` sees, by name: its namespace's (when links are
    on) win over the master services of `default`, which are always there."""
    by_name: dict[str, Object] = {}
    for service in services:
        if not _ip_set(service):
            continue
        meta = service.get("metadata") or {}
        name, ns = str(meta.get("name") or ""), str(meta.get("namespace") or "")
        if ns == MASTER_NAMESPACE and name in MASTER_SERVICES:
            by_name.setdefault(name, service)
        elif ns == namespace and enable_service_links:
            by_name[name] = service
    return [by_name[n] for n in sorted(by_name)]


def _link_variables(prefix: str, ip: str, ports: list[Object]) -> dict[str, str]:
    env: dict[str, str] = {}
    host = f"[{ip}]" if ":" in ip else ip
    for i, port in enumerate(ports):
        protocol = str(port.get("protocol") or "TCP")
        number = int(port.get("port") or 0)
        url = f"{protocol.lower()}://{host}:{number}"
        if i == 0:
            env[f"{prefix}_PORT"] = url
        port_prefix = f"{prefix}_PORT_{number}_{protocol.upper()}"
        env[port_prefix] = url
        env[f"{port_prefix}_PROTO"] = protocol.lower()
        env[f"{port_prefix}_PORT"] = str(number)
        env[f"{port_prefix}_ADDR"] = ip
    return env


def service_env(services: list[Object]) -> dict[str, str]:
    """The variables of `services` (already chosen by `visible_services`)."""
    env: dict[str, str] = {}
    for service in services:
        spec = service.get("spec") or {}
        ports = [p for p in spec.get("ports") or [] if isinstance(p, dict)]
        if not _ip_set(service) or not ports:
            continue
        prefix = _name(str((service.get("metadata") or {}).get("name") or ""))
        ip = str(spec["clusterIP"])
        env[f"{prefix}_SERVICE_HOST"] = ip
        env[f"{prefix}_SERVICE_PORT"] = str(int(ports[0].get("port") or 0))
        for port in ports:
            if port.get("name"):
                env[f"{prefix}_SERVICE_PORT_{_name(str(port['name']))}"] = \
                    str(int(port.get("port") or 0))
        env.update(_link_variables(prefix, ip, ports))
    return env


def pod_service_env(pod: Object, services: list[Object]) -> dict[str, str]:
    """The service variables for a pod, honouring its `enableServiceLinks`."""
    spec = pod.get("spec") or {}
    links = spec.get("enableServiceLinks")
    namespace = str((pod.get("metadata") or {}).get("namespace") or "")
    return service_env(visible_services(services, namespace, links is not False))
