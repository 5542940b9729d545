"""The apiserver's configuration: every flag of `schooner-apiserver` as a field (main.py)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ServerConfig:
    """What the apiserver needs to run; flags map onto these fields (see main.py)."""

    etcd_servers: list[str]
    # etcd's TLS (Kubernetes' --etcd-cafile/--etcd-certfile/--etcd-keyfile): the CA the
    # members are checked by and the apiserver's client certificate (apiserver/etcdtls.py).
    etcd_cafile: str | None = None
    etcd_certfile: str | None = None
    etcd_keyfile: str | None = None
    # How long start-up waits for an etcd member to answer before the apiserver exits.
    storage_initialization_timeout: float = 60.0
    # The deadline of each etcd get and write: past it the member is deemed gone and
    # the next one is used (apiserver/etcdclient.py). Full lists get longer.
    etcd_request_timeout: float = 3.0
    # Seconds between compactions of etcd (apiserver/compactor.py); 0 disables them.
    etcd_compaction_interval: float = 300.0
    # A member's file is defragmented after a compaction once at least this big and
    # half free (apiserver/defrag.py).
    etcd_defrag_min_bytes: int = 100 * 1024 * 1024
    # How long an Event lives in etcd after its last write (a kind's Strategy asks for it).
    event_ttl: int = 3600
    token_auth_file: str | None = None
    # Bootstrap tokens (bootstraptokens.py) and anonymous requests (auth.py), as
    # kube-apiserver's --enable-bootstrap-token-auth and --anonymous-auth.
    enable_bootstrap_token_auth: bool = False
    anonymous_auth: bool = False
    # AlwaysAllow (Kubernetes' default) or RBAC, a comma-separated list
    # (apiserver/authorizer.py, kinds/rbac/rbacauthorizer.py).
    authorization_mode: str = "AlwaysAllow"
    # CA whose signed client certificates authenticate their CN (user) and O (groups).
    client_ca_file: str | None = None
    # Service-account tokens (serviceaccount/tokens.py): the issuer they name, the key
    # that signs them (TokenRequest), more keys that verify, and the audiences accepted
    # (none: the issuer alone).
    service_account_issuer: str = "https://kubernetes.default.svc.cluster.local"
    service_account_signing_key_file: str | None = None
    service_account_key_files: list[str] = field(default_factory=list)
    api_audiences: list[str] = field(default_factory=list)
    # How the apiserver reaches agents (logs, exec): its own client certificate and the
    # CA their serving certificates are checked by (apiserver/kubeletclient.py).
    kubelet_client_certificate: str | None = None
    kubelet_client_key: str | None = None
    kubelet_certificate_authority: str | None = None
    # Whether an agent at a loopback address is dialled: only by an apiserver whose
    # --bind-address is loopback (main.py), whose agents all run on its host.
    kubelet_allow_loopback: bool = False
    # Kubernetes' EncryptionConfiguration for values at rest (apiserver/encryption.py).
    encryption_provider_config: str | None = None
    # The audit log (apiserver/audit/): no policy or no path, no audit.
    audit_policy_file: str | None = None
    audit_log_path: str | None = None
    audit_log_maxsize: int = 100  # megabytes before rotation
    audit_log_maxbackup: int = 0  # rotated files kept (0: all)
    audit_log_maxage: int = 0  # days a rotated file is kept (0: no limit)
    audit_log_queue_size: int = 10_000  # events waiting for the writer before drops
    # Requests worked on at once, reads and writes, split between priority levels
    # (apiserver/flowcontrol.py); Kubernetes' flags and defaults, 0 for no limit.
    max_requests_inflight: int = 400
    max_mutating_requests_inflight: int = 200
    max_request_bytes: int = 1_572_864  # etcd's default --max-request-bytes (1.5 MiB)
    watch_cache_size: int = 4096
    watcher_queue_size: int = 2048
    # Where the apiserver listens (main.py), and the IP it tells others to reach it at:
    # the `kubernetes` Service's endpoint (Kubernetes' --advertise-address; "": the
    # bind address). The apiserver listens on that IP too (main.py, docs/architecture.md).
    bind_address: str = "127.0.0.1"
    secure_port: int = 6443
    advertise_address: str = ""
    # Kubernetes' --endpoint-reconciler-type: "lease" (kinds/core/service/
    # endpointreconciler.py) or "none".
    # The TTL and interval are Kubernetes' fixed 15 s and 10 s; flags here so tests
    # need not wait that long.
    endpoint_reconciler_type: str = "lease"
    endpoint_lease_ttl: int = 15
    endpoint_reconcile_interval: float = 10.0
    # Inside the local cluster's 172.28.0.0/16, so no service address leaves the machine.
    service_cluster_ip_range: str = "172.28.255.0/24"
    service_node_port_range: str = "30000-32767"
    # DefaultTolerationSeconds admission: what a new pod tolerates of a failed node.
    default_not_ready_toleration_seconds: int = 300
    default_unreachable_toleration_seconds: int = 300
    # Admission plugins turned off (Kubernetes' --disable-admission-plugins); only
    # `ServiceAccount` may be named: the test harness's apiservers without a
    # controller-manager turn it off, as Kubernetes' integration framework does.
    disable_admission_plugins: list[str] = field(default_factory=list)

    @property
    def advertise_ip(self) -> str:
        """The advertised IP: --advertise-address, else the bind address."""
        return self.advertise_address or self.bind_address

    @property
    def server_address(self) -> str:
        """host:port of the advertised address (APIVersions' serverAddressByClientCIDRs)."""
        ip = self.advertise_ip
        return f"[{ip}]:{self.secure_port}" if ":" in ip else f"{ip}:{self.secure_port}"
