"""`schooner-apiserver`: flags named as Kubernetes' kube-apiserver names them."""

from __future__ import annotations

import argparse
import ipaddress
import logging
import os
import re
import socket
import ssl
import sys

import uvicorn

from apimachinery.tlspeer import ClientCertHttpToolsProtocol, ClientCertWebSocketProtocol

from . import encryption, listeners
from .app import create_app
from .audit import policy as audit_policy
from .authorizer import parse_modes
from .config import ServerConfig
from .kind import Background
from .kinds.core.service.ipallocator import ServiceIPRange
from .kinds.core.service.portallocator import PortRange

_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(h|ms|m|s)")
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def duration(text: str) -> float:
    """A Go duration (`5m`, `1h30m`, `2s`, `0`), as kube-apiserver's flags take, in seconds."""
    if text == "0":
        return 0.0
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise argparse.ArgumentTypeError(f"invalid duration {text!r} (e.g. 5m0s, 2s, 0)")
    return sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="schooner-apiserver",
                                description="Kubernetes-style REST API over etcd.")
    p.add_argument("--etcd-servers", default="http://127.0.0.1:2379",
                   help="comma-separated etcd client URLs: the first that answers is used, "
                        "and the next when it stops answering")
    p.add_argument("--etcd-cafile",
                   help="SSL Certificate Authority file used to secure etcd communication")
    p.add_argument("--etcd-certfile", help="SSL certification file used to secure etcd "
                   "communication (the apiserver's client certificate)")
    p.add_argument("--etcd-keyfile", help="SSL key file used to secure etcd communication")
    p.add_argument("--storage-initialization-timeout", type=duration, default=60.0,
                   help="maximum amount of time to wait for storage initialization (an etcd "
                        "member answering) at start before the apiserver exits (e.g. 1m0s)")
    p.add_argument("--etcd-compaction-interval", type=duration, default=300.0,
                   help="how often the apiserver compacts etcd to the revision of one interval "
                        "ago (e.g. 5m0s); 0 disables compaction")
    p.add_argument("--etcd-defrag-min-bytes", type=int, default=100 * 1024 * 1024,
                   help="after a compaction, defragment (one at a time) each etcd member whose "
                        "database file is at least this big and at least half free")
    p.add_argument("--event-ttl", type=duration, default=3600.0,
                   help="how long an Event is kept after its last write (e.g. 1h0m0s)")
    p.add_argument("--bind-address", default="127.0.0.1", help="address to listen on")
    p.add_argument("--secure-port", type=int, default=6443,
                   help="port for HTTPS (plain HTTP if no certificate is given)")
    p.add_argument("--tls-cert-file", help="serving certificate (PEM)")
    p.add_argument("--tls-private-key-file", help="serving certificate's private key (PEM)")
    p.add_argument("--token-auth-file",
                   help="static token file (token,user,uid,\"groups\"); without it and "
                        "--client-ca-file, no authn")
    p.add_argument("--client-ca-file",
                   help="CA (PEM) whose signed client certificates authenticate: the "
                        "subject's CN is the user, its O values the groups (needs TLS)")
    p.add_argument("--kubelet-client-certificate",
                   help="client certificate (PEM) the apiserver presents to node agents")
    p.add_argument("--kubelet-client-key", help="the key of --kubelet-client-certificate")
    p.add_argument("--kubelet-certificate-authority",
                   help="CA (PEM) that agents' serving certificates are verified against "
                        "(without it they are not verified)")
    p.add_argument("--service-account-issuer",
                   default="https://kubernetes.default.svc.cluster.local",
                   help="the iss of the service-account tokens this apiserver issues and "
                        "accepts")
    p.add_argument("--service-account-signing-key-file",
                   help="private key (PEM, EC P-256 or RSA) that signs service-account tokens "
                        "(TokenRequest); without it no token is issued")
    p.add_argument("--service-account-key-file", action="append", default=[],
                   help="PEM file of keys (public, or private) that verify service-account "
                        "tokens, beside the signing key's; may repeat")
    p.add_argument("--api-audiences", default="",
                   help="comma-separated audiences a service-account token must name one "
                        "of (default: the issuer)")
    p.add_argument("--authorization-mode", default="AlwaysAllow",
                   help="ordered list of authorizers, comma-separated: AlwaysAllow, RBAC "
                        "(system:masters is always allowed)")
    p.add_argument("--encryption-provider-config",
                   help="EncryptionConfiguration file (apiserver.config.k8s.io/v1): how "
                        "the resources it names are encrypted in etcd")
    p.add_argument("--audit-policy-file",
                   help="audit Policy (audit.k8s.io/v1): which requests are logged at what "
                        "level; without it nothing is audited")
    p.add_argument("--audit-log-path",
                   help="file the audit events are written to as JSON lines ('-': stdout)")
    p.add_argument("--audit-log-maxsize", type=int, default=100,
                   help="megabytes of audit log before it is rotated")
    p.add_argument("--audit-log-maxbackup", type=int, default=0,
                   help="rotated audit log files kept (0: no limit)")
    p.add_argument("--audit-log-maxage", type=int, default=0,
                   help="days a rotated audit log file is kept (0: no limit)")
    p.add_argument("--audit-log-queue-size", type=int, default=10_000,
                   help="audit events waiting to be written; past it events are dropped "
                        "(and counted in apiserver_audit_error_total), never requests held")
    p.add_argument("--max-requests-inflight", type=int, default=400,
                   help="reads (and non-resource requests) worked on at once, shared between "
                        "priority levels; past it a request waits briefly, then gets 429 "
                        "(watches and log/exec streams are not counted; 0: no limit)")
    p.add_argument("--max-mutating-requests-inflight", type=int, default=200,
                   help="writes (create, update, patch, delete) worked on at once, shared "
                        "between priority levels as --max-requests-inflight (0: no limit)")
    p.add_argument("--max-request-bytes", type=int, default=1_572_864,
                   help="largest request body accepted (etcd's own limit by default)")
    p.add_argument("--watch-cache-size", type=int, default=4096,
                   help="recent events kept per resource for watchers that resume")
    p.add_argument("--watcher-queue-size", type=int, default=2048,
                   help="events a slow watcher may have queued before it is closed")
    p.add_argument("--advertise-address", default=None,
                   help="the IP address on which to advertise the apiserver to members of "
                        "the cluster: the kubernetes Service's endpoint, which pods must "
                        "reach (default: --bind-address); the apiserver listens there too")
    p.add_argument("--endpoint-reconciler-type", default="lease", choices=("lease", "none"),
                   help="lease: each apiserver keeps its advertise address in the "
                        "kubernetes Service's Endpoints while it lives; none: no endpoints")
    p.add_argument("--endpoint-lease-ttl", type=duration, default=15.0,
                   help="how long an apiserver's address stays in the kubernetes Service's "
                        "endpoints after its last renewal (Kubernetes: fixed 15s)")
    p.add_argument("--endpoint-reconcile-interval", type=duration, default=10.0,
                   help="how often an apiserver renews its address and rewrites the "
                        "kubernetes Service's endpoints (Kubernetes: fixed 10s)")
    p.add_argument("--service-cluster-ip-range", default="172.28.255.0/24",
                   help="IPv4 CIDR Services' ClusterIPs come from; its first address is the "
                        "kubernetes Service's")
    p.add_argument("--service-node-port-range", default="30000-32767",
                   help="port range (LOW-HIGH) NodePort and LoadBalancer Services' "
                        "nodePorts come from")
    p.add_argument("--default-not-ready-toleration-seconds", type=int, default=300,
                   help="the tolerationSeconds of the notReady:NoExecute toleration added to "
                        "every pod that has no such toleration (DefaultTolerationSeconds)")
    p.add_argument("--default-unreachable-toleration-seconds", type=int, default=300,
                   help="the tolerationSeconds of the unreachable:NoExecute toleration added "
                        "to every pod that has no such toleration (DefaultTolerationSeconds)")
    p.add_argument("-v", "--v", type=int, default=0, help="log verbosity (0-4)")
    return p.parse_args(argv)


def listens_on_loopback(address: str) -> bool:
    """Whether `--bind-address` is loopback (`localhost` or a loopback IP): a one-host
    cluster, whose agents at loopback addresses are this host's (kubeletclient.py)."""
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.v >= 4 else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s", stream=sys.stderr)
    if bool(args.tls_cert_file) != bool(args.tls_private_key_file):
        sys.exit("error: --tls-cert-file and --tls-private-key-file go together")
    if bool(args.etcd_certfile) != bool(args.etcd_keyfile):
        sys.exit("error: --etcd-certfile and --etcd-keyfile go together")
    for flag in ("etcd_cafile", "etcd_certfile", "etcd_keyfile"):
        if (path := getattr(args, flag)) and not os.access(path, os.R_OK):
            sys.exit(f"error: --{flag.replace('_', '-')} {path}: cannot be read")
    if bool(args.kubelet_client_certificate) != bool(args.kubelet_client_key):
        sys.exit("error: --kubelet-client-certificate and --kubelet-client-key go together")
    for flag in ("kubelet_client_certificate", "kubelet_client_key",
                 "kubelet_certificate_authority"):
        if (path := getattr(args, flag)) and not os.access(path, os.R_OK):
            sys.exit(f"error: --{flag.replace('_', '-')} {path}: cannot be read")
    if args.client_ca_file and not args.tls_cert_file:
        sys.exit("error: --client-ca-file needs --tls-cert-file (certificates come over TLS)")
    if args.max_requests_inflight < 0 or args.max_mutating_requests_inflight < 0:
        sys.exit("error: --max-requests-inflight and --max-mutating-requests-inflight "
                 "must be 0 (no limit) or more")
    try:
        _check_addresses(args)
        ServiceIPRange.parse(args.service_cluster_ip_range)
        PortRange.parse(args.service_node_port_range)
        parse_modes(args.authorization_mode)
        if args.encryption_provider_config:
            encryption.load(args.encryption_provider_config)
        if args.audit_policy_file:
            audit_policy.load(args.audit_policy_file)
        if min(args.audit_log_maxsize, args.audit_log_maxbackup, args.audit_log_maxage) < 0 \
                or args.audit_log_queue_size < 1:
            raise ValueError("--audit-log-maxsize, --audit-log-maxbackup and "
                             "--audit-log-maxage must be 0 or more, --audit-log-queue-size 1 "
                             "or more")
    except ValueError as exc:
        sys.exit(f"error: {exc}")
    config = ServerConfig(
        etcd_servers=[s.strip() for s in args.etcd_servers.split(",") if s.strip()],
        etcd_cafile=args.etcd_cafile,
        etcd_certfile=args.etcd_certfile,
        etcd_keyfile=args.etcd_keyfile,
        storage_initialization_timeout=args.storage_initialization_timeout,
        etcd_compaction_interval=args.etcd_compaction_interval,
        etcd_defrag_min_bytes=args.etcd_defrag_min_bytes,
        event_ttl=max(1, round(args.event_ttl)),
        token_auth_file=args.token_auth_file,
        authorization_mode=args.authorization_mode,
        client_ca_file=args.client_ca_file,
        kubelet_client_certificate=args.kubelet_client_certificate,
        kubelet_client_key=args.kubelet_client_key,
        kubelet_certificate_authority=args.kubelet_certificate_authority,
        kubelet_allow_loopback=listens_on_loopback(args.bind_address),
        service_account_issuer=args.service_account_issuer,
        service_account_signing_key_file=args.service_account_signing_key_file,
        service_account_key_files=args.service_account_key_file,
        api_audiences=[a.strip() for a in args.api_audiences.split(",") if a.strip()],
        encryption_provider_config=args.encryption_provider_config,
        audit_policy_file=args.audit_policy_file,
        audit_log_path=args.audit_log_path,
        audit_log_maxsize=args.audit_log_maxsize,
        audit_log_maxbackup=args.audit_log_maxbackup,
        audit_log_maxage=args.audit_log_maxage,
        audit_log_queue_size=args.audit_log_queue_size,
        max_requests_inflight=args.max_requests_inflight,
        max_mutating_requests_inflight=args.max_mutating_requests_inflight,
        max_request_bytes=args.max_request_bytes,
        watch_cache_size=args.watch_cache_size,
        watcher_queue_size=args.watcher_queue_size,
        bind_address=args.bind_address,
        secure_port=args.secure_port,
        advertise_address=args.advertise_address or "",
        endpoint_reconciler_type=args.endpoint_reconciler_type,
        endpoint_lease_ttl=max(1, round(args.endpoint_lease_ttl)),
        endpoint_reconcile_interval=args.endpoint_reconcile_interval,
        service_cluster_ip_range=args.service_cluster_ip_range,
        service_node_port_range=args.service_node_port_range,
        default_not_ready_toleration_seconds=args.default_not_ready_toleration_seconds,
        default_unreachable_toleration_seconds=args.default_unreachable_toleration_seconds,
    )
    app = create_app(config)
    server = _Server(uvicorn.Config(
        app, ssl_certfile=args.tls_cert_file, ssl_keyfile=args.tls_private_key_file,
        # A client may send a certificate; one it sends must verify (tlspeer.py).
        ssl_cert_reqs=ssl.CERT_OPTIONAL if args.client_ca_file else ssl.CERT_NONE,
        ssl_ca_certs=args.client_ca_file, http=ClientCertHttpToolsProtocol, loop="uvloop",
        ws=ClientCertWebSocketProtocol,
        log_level="warning", access_log=False,
        timeout_graceful_shutdown=3,
    ), app.state.background)
    addresses = listeners.addresses(args.bind_address, config.advertise_address)
    try:
        sockets = listeners.listen(addresses, args.secure_port)
    except OSError as exc:  # "address already in use", as uvicorn words it
        sys.exit(f"error: while attempting to bind on {', '.join(addresses)} port "
                 f"{args.secure_port}: {(exc.strerror or str(exc)).lower()}")
    server.run(sockets=sockets)


class _Server(uvicorn.Server):
    """uvicorn's server, whose shutdown first stops the kinds' background work (so this
    apiserver leaves the `kubernetes` Service's endpoints, as Kubernetes' pre-shutdown
    hook does) before it waits for requests and watches to end."""

    def __init__(self, config: uvicorn.Config, background: list[Background]) -> None:
        super().__init__(config)
        self._background = background

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for work in self._background:
            await work.stop()
        await super().shutdown(sockets)


def _check_addresses(args: argparse.Namespace) -> None:
    """--bind-address and --advertise-address are IPs, as kube-apiserver's are."""
    for flag in ("bind_address", "advertise_address"):
        value = getattr(args, flag)
        if value is None:
            continue
        try:
            ipaddress.ip_address(value)
        except ValueError:
            raise ValueError(f"--{flag.replace('_', '-')} {value!r}: must be an IP "
                             "address") from None

if __name__ == "__main__":
    main()
