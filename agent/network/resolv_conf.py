"""Pod DNS: the resolv.conf a pod's containers see (the kubelet's pkg/kubelet/network/dns).

With `--cluster-dns`, a pod whose `dnsPolicy` is ClusterFirst (the default) or
ClusterFirstWithHostNet gets the cluster's name servers and the search path
`<namespace>.svc.<domain> svc.<domain> <domain>` with `options ndots:5`, so
`web`, `web.other` and `web.other.svc` all resolve through the cluster DNS. A
pod's `dnsConfig` adds name servers, search domains and options (an option
of the same name replaces the cluster's), and `dnsPolicy: None` uses only
`dnsConfig`. `Default` keeps what Docker gives the container, and so does
ClusterFirst when no cluster DNS is configured (the kubelet falls back to the
host's resolv.conf then, too).

The file is written once per pod as `<root-dir>/pods/<uid>/resolv.conf`
(the kubelet keeps `etc-hosts` there) and bind-mounted read-only at
/etc/resolv.conf into the sandbox and every container of the pod. The kubelet
caps name servers at 3 and the search path at 32 domains or 2048 characters;
so does this. Unlike the kubelet, the host's own search domains are not
appended. `resolv_conf` is pure; `write_resolv_conf` does the file I/O.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from agent.runtime.container import Mount
from apimachinery.meta import Object

RESOLV_CONF_PATH = "/etc/resolv.conf"
MAX_NAMESERVERS = 3
MAX_SEARCH_DOMAINS = 32
MAX_SEARCH_CHARS = 2048
CLUSTER_FIRST_OPTIONS = ("ndots:5",)


@dataclass(frozen=True)
class ClusterDNS:
    """The kubelet's `--cluster-dns` and `--cluster-domain`."""

    servers: tuple[str, ...] = ()
    domain: str = "cluster.local"


def dns_policy(pod: Object) -> str:
    """The effective policy: ClusterFirst on the host network means the host's (Default)."""
    spec = pod.get("spec") or {}
    policy = str(spec.get("dnsPolicy") or "ClusterFirst")
    if policy == "ClusterFirst" and spec.get("hostNetwork"):
        return "Default"
    return policy


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(i for i in items if i))


def _merge_options(base: tuple[str, ...], extra: list[Object]) -> list[str]:
    """mergeDNSOptions: `name[:value]` entries, a later one of a name replacing the earlier."""
    merged: dict[str, str] = {}
    for text in base:
        name, sep, value = text.partition(":")
        merged[name] = f"{name}{sep}{value}"
    for option in extra:
        name = str(option.get("name") or "")
        if name:
            option_value = option.get("value")
            merged[name] = (f"{name}:{option_value}" if option_value not in (None, "")
                            else name)
    return list(merged.values())


def _trim_search(searches: list[str]) -> list[str]:
    kept: list[str] = []
    for domain in searches[:MAX_SEARCH_DOMAINS]:
        if len(" ".join([*kept, domain])) > MAX_SEARCH_CHARS:
            break
        kept.append(domain)
    return kept


def resolv_conf(pod: Object, cluster: ClusterDNS) -> str | None:
    """The pod's resolv.conf, or None to keep the runtime's own (pure)."""
    spec = pod.get("spec") or {}
    policy = dns_policy(pod)
    if policy in ("ClusterFirst", "ClusterFirstWithHostNet") and cluster.servers:
        namespace = str((pod.get("metadata") or {}).get("namespace") or "default")
        servers = list(cluster.servers)
        searches = ([f"{namespace}.svc.{cluster.domain}", f"svc.{cluster.domain}",
                     cluster.domain] if cluster.domain else [])
        options: tuple[str, ...] = CLUSTER_FIRST_OPTIONS
    elif policy == "None":
        servers, searches, options = [], [], ()
    else:
        return None
    config = spec.get("dnsConfig") or {}
    servers = _unique(servers + [str(s) for s in config.get("nameservers") or []])
    searches = _trim_search(_unique(searches + [str(s) for s in config.get("searches") or []]))
    merged = _merge_options(options, list(config.get("options") or []))
    lines = [f"nameserver {s}" for s in servers[:MAX_NAMESERVERS]]
    if searches:
        lines.append("search " + " ".join(searches))
    if merged:
        lines.append("options " + " ".join(merged))
    return "".join(f"{line}\n" for line in lines)


def resolv_conf_file(root_dir: Path, pod_uid: str) -> Path:
    return root_dir / "pods" / pod_uid / "resolv.conf"


def resolv_conf_mount(path: Path) -> Mount:
    return Mount("bind", str(path), RESOLV_CONF_PATH, read_only=True)


def write_resolv_conf(path: Path, content: str) -> None:
    """Write the file unless it already holds `content` (blocking file I/O).

    Unchanged content keeps the inode the pod's running containers have bound.
    """
    try:
        if path.read_text() == content:
            return
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(content)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
