"""How the apiserver reaches a node's agent: over TLS, as itself, at an address it checks.

As kube-apiserver's kubelet client (`--kubelet-client-certificate`,
`--kubelet-client-key`, `--kubelet-certificate-authority`):
- it dials `https://<InternalIP>:<daemonEndpoints.kubeletEndpoint.Port>` and presents
  its own client certificate (kubeadm names it `kube-apiserver-kubelet-client`); the
  caller's credentials never go to the agent: the apiserver authorized the caller
  itself (pods/log, pods/exec), and the agent authorizes the apiserver (nodes/proxy);
- with a certificate authority it verifies the agent's serving certificate against it
  and against the address it dials (an IP subjectAltName), as Go's TLS client matches
  the URL's host; without one it does not verify, as Kubernetes (a warning at start);
- the address is a Node's status, which the node writes: only a unicast IP that is not
  unspecified, link-local (the cloud metadata service at 169.254.169.254) or multicast
  is dialled (the ranges of Kubernetes' ValidateEndpointIP and IsProxyableIP). Loopback
  names the apiserver's own host: an apiserver whose `--bind-address` is loopback
  (a one-host cluster, `schooner up`, the tests: no other host reaches it) dials it,
  since its agents run beside it; any other refuses it, so a node cannot point the
  apiserver at its own host's services.
"""

from __future__ import annotations

import ipaddress
import logging
import ssl
from dataclasses import dataclass

from apimachinery import errors
from apimachinery.meta import Object
from apimachinery.specialip import special_ip_problems

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KubeletClientConfig:
    """The apiserver's TLS towards agents (None fields: not configured)."""

    cert_file: str | None = None
    key_file: str | None = None
    ca_file: str | None = None
    allow_loopback: bool = False  # the apiserver's --bind-address is loopback

    def ssl_context(self) -> ssl.SSLContext:
        """The client side of the agents' TLS: our certificate; their CA when given."""
        if self.ca_file:
            context = ssl.create_default_context(cafile=self.ca_file)
        else:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if self.cert_file and self.key_file:
            context.load_cert_chain(self.cert_file, self.key_file)
        return context


def agent_url(node: Object, config: KubeletClientConfig) -> str:
    """`https://IP:PORT` of a Node's agent, or 503 naming what is wrong with the address."""
    name = (node.get("metadata") or {}).get("name")
    status = node.get("status") or {}
    port = ((status.get("daemonEndpoints") or {}).get("kubeletEndpoint") or {}).get("Port")
    address = next((a.get("address") for a in status.get("addresses") or []
                    if isinstance(a, dict) and a.get("type") == "InternalIP"), None)
    if not port or not address:
        raise errors.ServiceUnavailable(f"node {name} does not advertise its agent "
                                        "address and port")
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        raise errors.ServiceUnavailable(f"node {name}: kubelet port {port!r} is not in "
                                        "1-65535")
    problem = address_problem(str(address), config.allow_loopback)
    if problem:
        raise errors.ServiceUnavailable(f"node {name}: address {address} is not allowed: "
                                        f"{problem}")
    ip = ipaddress.ip_address(str(address))
    host = f"[{ip}]" if ip.version == 6 else str(ip)
    return f"https://{host}:{port}"


def address_problem(address: str, allow_loopback: bool) -> str:
    """Why the apiserver will not dial `address` ("" when it will)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "must be a valid IP address"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_multicast:
        return "may not be a multicast address"
    if isinstance(ip, ipaddress.IPv4Address) and ip == ipaddress.IPv4Address(
            "255.255.255.255"):
        return "may not be the broadcast address"
    problems = [p for p in special_ip_problems(str(ip))
                if not (allow_loopback and "loopback" in p)]
    return problems[0] if problems else ""
