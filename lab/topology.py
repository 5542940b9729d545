"""The multi-host lab as data: which containers, with which flags, on which addresses.

One description serves both ways of starting a lab: `lab.compose` renders it as
a docker-compose project (`make lab`), `lab.testing.SchoonerCluster` starts the
same containers through testcontainers (the lab tests, users' own tests). So a
flag changed here changes both.

The address plan (DESIGN.md section 5) keeps every address inside the lab
network's one /16, so a stray packet stays on that bridge:

    172.30.0.0/24     the lab's containers: etcd, registry, schedulers, controller-managers
                      (Docker's ip_range)
    172.30.1.0/24     fixed addresses, outside Docker's ip_range so no container ever
                      takes one: the apiservers' (.1, .2, ...), each advertised as the
                      `kubernetes` Service's endpoint and all named by the serving
                      certificate; the nodes' (.10 for node1 on), each named by its
                      agent's serving certificate
    172.30.128.0/17   the cluster CIDR; each node gets a /24 of it (node IPAM)
    172.30.255.0/24   the service range (inside the /17, so IPAM skips it);
                      .1 is `kubernetes`, .10 is the cluster DNS

The lab network is `internal`: Docker gives it no route off the machine. Only the
apiservers and the registry also join an `edge` network, to publish their ports
on 127.0.0.1 for the host.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from apimachinery.etcdpki import EtcdClientTLS, EtcdServerTLS

# The node image; SCHOONER_NODE_IMAGE names another tag (deploy/images/build.py builds it).
NODE_IMAGE = os.environ.get("SCHOONER_NODE_IMAGE", "schooner/node:latest")
APISERVER_PORT = 6443
REGISTRY_PORT = 5000
ETCD_CLIENT_PORT = 2379
ETCD_PEER_PORT = 2380
# Inside the apiservers, schedulers and controller-managers: each container's own folder
# (lab/files.py), holding only the files its role reads (ContainerSpec.config_files), as
# kubeadm gives each control-plane component only its own files under /etc/kubernetes.
CONFIG_DIR = "/etc/schooner"
# What each role reads from CONFIG_DIR; each name is a file of the lab's `etc/` on the host.
CA_CERT = "ca.crt"
SERVING_CERT = "apiserver.crt"
SERVING_KEY = "apiserver.key"
TOKEN_FILE = "tokens.csv"
# The apiservers' own folder (the key Secrets are encrypted with, the audit policy),
# mounted into the apiserver containers only; the audit log goes to a volume of each.
APISERVER_DIR = "/etc/schooner-apiserver"
AUDIT_LOG_DIR = "/var/log/schooner"
# Inside the etcd members and the apiservers only (kubeadm's /etc/kubernetes/pki/etcd):
# etcd's certificates, each container its own (lab/files.py). No node, scheduler or
# controller-manager gets the etcd CA or any etcd certificate.
ETCD_PKI_DIR = PurePosixPath("/etc/schooner-etcd")
# The cluster CA's key, mounted into the controller-managers only: csrsigning signs the
# joining nodes' certificates with it. No other container holds it.
SIGNING_DIR = "/etc/schooner-signing"
# What a node keeps of its join (cli/join/tlsbootstrap.NodeFiles), on its state volume.
NODE_HOME = "/var/lib/schooner"
# Registry hosts a node must never reach: a failed mirror lookup would fall back to
# them. They resolve to loopback inside nodes, so such a pull fails at once, locally.
BLOCKED_REGISTRIES = ("registry-1.docker.io", "index.docker.io", "auth.docker.io",
                      "production.cloudflare.docker.com", "docker.io")


@dataclass(frozen=True)
class LabConfig:
    """The shape of one lab; every field has the `make lab` default."""

    name: str = "schooner-lab"  # compose project, container and network prefix
    nodes: int = 3
    etcd_members: int = 3
    apiservers: int = 2
    schedulers: int = 2  # each with --leader-elect: one leads, the others stand by
    controller_managers: int = 2
    subnet: str = "172.30.0.0/16"
    apiserver_host_port: int = 16443  # apiserver1 on 127.0.0.1; apiserverN on +N-1
    registry_host_port: int = 15000
    image: str = NODE_IMAGE

    def __post_init__(self) -> None:
        net = ipaddress.IPv4Network(self.subnet)
        if net.prefixlen != 16:
            raise ValueError(f"lab subnet {self.subnet}: must be a /16")
        if not 1 <= self.nodes <= 100:
            raise ValueError(f"nodes={self.nodes}: must be 1..100")
        if self.etcd_members not in (1, 3, 5):
            raise ValueError(f"etcd_members={self.etcd_members}: must be 1, 3 or 5")
        if not 1 <= self.apiservers <= 3:
            raise ValueError(f"apiservers={self.apiservers}: must be 1..3")
        if not 1 <= self.schedulers <= 3:
            raise ValueError(f"schedulers={self.schedulers}: must be 1..3")
        if not 1 <= self.controller_managers <= 3:
            raise ValueError(f"controller_managers={self.controller_managers}: must be 1..3")

    # -- the address plan --

    @property
    def network(self) -> ipaddress.IPv4Network:
        return ipaddress.IPv4Network(self.subnet)

    def _sub(self, offset: int, prefix: int) -> str:
        base = int(self.network.network_address) + offset
        return str(ipaddress.IPv4Network((base, prefix)))

    @property
    def container_range(self) -> str:
        """Where Docker gives the lab's containers their addresses (x.y.0.0/24)."""
        return self._sub(0, 24)

    def node_address(self, index: int) -> str:
        """The fixed lab address of the node of `index` (0-based): x.y.1.(index+10), after
        the apiservers' (at most 3)."""
        return str(self.network.network_address + (1 << 8) + 10 + index)

    @property
    def gateway(self) -> str:
        return str(self.network.network_address + 1)

    def apiserver_ip(self, index: int) -> str:
        """The fixed lab address of the apiserver of `index` (0-based): x.y.1.(index+1)."""
        return str(self.network.network_address + (1 << 8) + index + 1)

    @property
    def cluster_cidr(self) -> str:
        """The pod network: the upper half of the /16."""
        return self._sub(128 << 8, 17)

    @property
    def service_cidr(self) -> str:
        """The service range: the last /24 of the /16."""
        return self._sub(255 << 8, 24)

    @property
    def cluster_dns(self) -> str:
        """The 10th address of the service range, as kubeadm places kube-dns."""
        return str(ipaddress.IPv4Network(self.service_cidr).network_address + 10)

    @property
    def lab_network(self) -> str:
        return self.name

    @property
    def edge_network(self) -> str:
        return f"{self.name}-edge"

    # -- names --

    def etcd_names(self) -> list[str]:
        return [f"etcd{i}" for i in range(1, self.etcd_members + 1)]

    def apiserver_names(self) -> list[str]:
        return [f"apiserver{i}" for i in range(1, self.apiservers + 1)]

    def scheduler_names(self) -> list[str]:
        return [f"scheduler{i}" for i in range(1, self.schedulers + 1)]

    def controller_manager_names(self) -> list[str]:
        return [f"controller-manager{i}" for i in range(1, self.controller_managers + 1)]

    def node_names(self) -> list[str]:
        return [f"node{i}" for i in range(1, self.nodes + 1)]

    def container_name(self, service: str) -> str:
        return f"{self.name}-{service}"

    def apiserver_for(self, index: int) -> str:
        """Spread clients over the apiservers: both are used, neither is special."""
        names = self.apiserver_names()
        return names[index % len(names)]

    def failover_flags(self, index: int) -> list[str]:
        """`--apiserver-urls` for the client `apiserver_for(index)` serves: every other
        apiserver, in order after it, so losing one apiserver strands no component."""
        names = self.apiserver_names()
        others = [names[(index + step) % len(names)] for step in range(1, len(names))]
        if not others:
            return []
        return ["--apiserver-urls", ",".join(f"https://{n}:{APISERVER_PORT}" for n in others)]

    def server_names(self) -> list[str]:
        """Every name the apiservers' serving certificate must carry."""
        service_ip = str(ipaddress.IPv4Network(self.service_cidr).network_address + 1)
        return ["127.0.0.1", "localhost", "kubernetes", "kubernetes.default",
                "kubernetes.default.svc", "kubernetes.default.svc.cluster.local", service_ip,
                *self.apiserver_names(),
                *(self.apiserver_ip(i) for i in range(self.apiservers))]


@dataclass(frozen=True)
class ContainerSpec:
    """One container of the lab, in terms both compose and the Docker SDK understand."""

    service: str  # the compose service name, also the hostname and network alias
    command: list[str]
    networks: tuple[str, ...]
    ports: dict[int, int] = field(default_factory=dict)  # container port -> 127.0.0.1 port
    volumes: dict[str, str] = field(default_factory=dict)  # named volume -> mount path
    # The files of the lab's `etc/` (lab/files.py) this container reads, copied into a
    # folder of its own mounted read-only at CONFIG_DIR; () for no such mount.
    config_files: tuple[str, ...] = ()
    signing_mount: bool = False  # the CA key's folder at SIGNING_DIR, read-only
    apiserver_mount: bool = False  # the apiservers' folder at APISERVER_DIR, read-only
    # The folder of the lab's etcd PKI (lab/files.py) mounted read-only at ETCD_PKI_DIR:
    # an etcd member's own, or the apiservers' client certificate; "" for none.
    etcd_pki: str = ""
    docker_in_docker: bool = False  # the capabilities an inner dockerd needs (RECIPES)
    extra_hosts: dict[str, str] = field(default_factory=dict)
    depends_on: tuple[str, ...] = ()
    restart: str = ""  # Docker's restart policy ("unless-stopped"); "" for none
    ipv4_address: str = ""  # a fixed address on the lab network; "": Docker picks one


def apiserver_folder(etc: Path) -> Path:
    """The host folder mounted at APISERVER_DIR, beside the lab's `etc/`."""
    return etc.parent / "apiserver"


def config_folder(etc: Path, service: str) -> Path:
    """The host folder mounted at CONFIG_DIR into `service`'s container: `config/<service>`
    beside the lab's `etc/`, holding copies of its ContainerSpec.config_files only."""
    return etc.parent / "config" / service


def component_identities(config: LabConfig) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Who each control-plane client is to the apiservers: identity -> (user, groups), as
    Kubernetes names them. Schedulers share one identity, as do controller-managers. The
    nodes have none here: each joins with the lab's bootstrap token and gets its own
    certificate, `system:node:<node>` in system:nodes (lab/joining.py). The apiservers run
    `--authorization-mode Node,RBAC`: each may do what its bootstrap role allows, a node
    only what its pods reference (docs/security.md)."""
    return {
        "scheduler": ("system:kube-scheduler", ()),
        "controller-manager": ("system:kube-controller-manager", ()),
    }


def kubeconfig_name(identity: str, apiserver: str) -> str:
    """The file name of `identity`'s kubeconfig for one apiserver (written by lab.files)."""
    return f"{identity}-{apiserver}.kubeconfig"


def kubeconfig_path(identity: str, apiserver: str) -> str:
    """The in-lab kubeconfig with which `identity` talks to one apiserver."""
    return f"{CONFIG_DIR}/{kubeconfig_name(identity, apiserver)}"


# etcd's space quota, stated (cli/cluster/components.py ETCD_QUOTA_BACKEND_BYTES).
ETCD_QUOTA_BACKEND_BYTES = 2 * 1024 ** 3


def etcd_spec(config: LabConfig, name: str) -> ContainerSpec:
    """One member: TLS with client certificates of the etcd CA on both ports (etcd is
    private: only the apiservers hold a client certificate)."""
    cluster = ",".join(f"{n}=https://{n}:{ETCD_PEER_PORT}" for n in config.etcd_names())
    return ContainerSpec(
        service=name,
        command=["etcd", "--name", name, "--data-dir", "/var/lib/etcd", "--logger", "zap",
                 # the apiservers ping every 2 s (apiserver/etcdclient.py)
                 "--grpc-keepalive-min-time", "1s",
                 # an explicit quota; etcd's auto-compaction off: the apiservers compact
                 "--quota-backend-bytes", str(ETCD_QUOTA_BACKEND_BYTES),
                 "--auto-compaction-retention", "0",
                 *EtcdServerTLS.in_dir(ETCD_PKI_DIR).flags(),
                 "--listen-client-urls", f"https://0.0.0.0:{ETCD_CLIENT_PORT}",
                 "--advertise-client-urls", f"https://{name}:{ETCD_CLIENT_PORT}",
                 "--listen-peer-urls", f"https://0.0.0.0:{ETCD_PEER_PORT}",
                 "--initial-advertise-peer-urls", f"https://{name}:{ETCD_PEER_PORT}",
                 "--initial-cluster", cluster, "--initial-cluster-state", "new",
                 "--initial-cluster-token", config.name],
        networks=(config.lab_network,), volumes={f"{name}-data": "/var/lib/etcd"},
        etcd_pki=name)


APISERVER_ETCD_PKI = "apiserver"  # the lab etcd PKI's folder of the apiservers' certificate
# The apiservers' client certificate towards agents, in their own folder (APISERVER_DIR).
KUBELET_CLIENT_CERT = "apiserver-kubelet-client.crt"
KUBELET_CLIENT_KEY = "apiserver-kubelet-client.key"


def apiserver_spec(config: LabConfig, index: int, name: str) -> ContainerSpec:
    etcd = ",".join(f"https://{n}:{ETCD_CLIENT_PORT}" for n in config.etcd_names())
    return ContainerSpec(
        service=name,
        command=["schooner-apiserver", "--etcd-servers", etcd,
                 *EtcdClientTLS.in_dir(ETCD_PKI_DIR).apiserver_flags(),
                 # 0.0.0.0 of its own container: the lab network and the edge one
                 "--bind-address", "0.0.0.0",
                 "--advertise-address", config.apiserver_ip(index),
                 "--secure-port", str(APISERVER_PORT),
                 "--tls-cert-file", f"{CONFIG_DIR}/{SERVING_CERT}",
                 "--tls-private-key-file", f"{CONFIG_DIR}/{SERVING_KEY}",
                 # the static tokens: the components' and the admin's (the host's
                 # kubeconfig, lab/files.py)
                 "--token-auth-file", f"{CONFIG_DIR}/{TOKEN_FILE}",
                 # the joined nodes call with the certificates csrsigning issued them
                 "--client-ca-file", f"{CONFIG_DIR}/{CA_CERT}",
                 # agents are reached as kube-apiserver-kubelet-client, verified by the CA
                 "--kubelet-client-certificate", f"{APISERVER_DIR}/{KUBELET_CLIENT_CERT}",
                 "--kubelet-client-key", f"{APISERVER_DIR}/{KUBELET_CLIENT_KEY}",
                 "--kubelet-certificate-authority", f"{CONFIG_DIR}/{CA_CERT}",
                 "--service-cluster-ip-range", config.service_cidr,
                 "--authorization-mode", "Node,RBAC",
                 # nodes join with a bootstrap token, reading cluster-info anonymously
                 "--enable-bootstrap-token-auth", "true", "--anonymous-auth", "true",
                 # a dead node's pods move 10 s after its taint, not Kubernetes' 300 s
                 "--default-not-ready-toleration-seconds", "10",
                 "--default-unreachable-toleration-seconds", "10",
                 "--encryption-provider-config", f"{APISERVER_DIR}/encryption-config.yaml",
                 # both sign pods' tokens with one key, so either verifies them
                 "--service-account-signing-key-file", f"{APISERVER_DIR}/sa.key",
                 "--audit-policy-file", f"{APISERVER_DIR}/audit-policy.yaml",
                 "--audit-log-path", f"{AUDIT_LOG_DIR}/audit.log",
                 "--audit-log-maxsize", "100", "--audit-log-maxbackup", "5"],
        networks=(config.lab_network, config.edge_network),
        ports={APISERVER_PORT: config.apiserver_host_port + index},
        volumes={f"{name}-audit": AUDIT_LOG_DIR}, apiserver_mount=True,
        config_files=(CA_CERT, SERVING_CERT, SERVING_KEY, TOKEN_FILE),
        depends_on=tuple(config.etcd_names()), etcd_pki=APISERVER_ETCD_PKI,
        ipv4_address=config.apiserver_ip(index))


def registry_spec(config: LabConfig) -> ContainerSpec:
    """Debian's docker-registry (the CNCF distribution registry) with its packaged config."""
    return ContainerSpec(
        service="registry",
        command=["docker-registry", "serve", "/etc/docker/registry/config.yml"],
        networks=(config.lab_network, config.edge_network),
        ports={REGISTRY_PORT: config.registry_host_port},
        volumes={"registry-data": "/var/lib/docker-registry"})


def scheduler_spec(config: LabConfig, index: int, name: str) -> ContainerSpec:
    """One of the schedulers; they elect a leader on `kube-system/kube-scheduler`.

    A leader that loses its Lease exits, and Docker restarts it as a standby (the
    kubelet does this for kube-scheduler's static pod). It holds its kubeconfig alone
    (kubeadm's scheduler.conf), which embeds the CA certificate."""
    apiserver = config.apiserver_for(index)
    return ContainerSpec(
        service=name,
        command=["schooner-scheduler",
                 "--kubeconfig", kubeconfig_path("scheduler", apiserver),
                 *config.failover_flags(index),
                 "--secure-port", "10259", "--leader-elect"],
        networks=(config.lab_network,), depends_on=tuple(config.apiserver_names()),
        restart="unless-stopped", config_files=(kubeconfig_name("scheduler", apiserver),))


def controller_manager_spec(config: LabConfig, index: int, name: str) -> ContainerSpec:
    """One of the controller-managers, on the other apiserver than the scheduler of the
    same index; they elect a leader on `kube-system/kube-controller-manager`. It holds its
    kubeconfig (kubeadm's controller-manager.conf), the CA certificate and, in its own
    mount, the CA's key (kubeadm's ca.crt and ca.key for csrsigning)."""
    apiserver = config.apiserver_for(index + 1)
    return ContainerSpec(
        service=name,
        command=["schooner-controller-manager",
                 "--kubeconfig", kubeconfig_path("controller-manager", apiserver),
                 *config.failover_flags(index + 1),
                 "--secure-port", "10257", "--leader-elect",
                 "--allocate-node-cidrs", "--cluster-cidr", config.cluster_cidr,
                 "--node-cidr-mask-size", "24",
                 "--service-cluster-ip-range", config.service_cidr,
                 "--controllers", "*,bootstrapsigner,tokencleaner",
                 "--cluster-signing-cert-file", f"{CONFIG_DIR}/{CA_CERT}",
                 "--cluster-signing-key-file", f"{SIGNING_DIR}/ca.key",
                 # the CA's certificate (not its key) for every namespace's kube-root-ca.crt
                 "--root-ca-file", f"{CONFIG_DIR}/{CA_CERT}"],
        networks=(config.lab_network,), depends_on=tuple(config.apiserver_names()),
        restart="unless-stopped", signing_mount=True,
        config_files=(CA_CERT, kubeconfig_name("controller-manager", apiserver)))


def node_spec(config: LabConfig, index: int, name: str, token: str,
              ca_cert_hash: str) -> ContainerSpec:
    """A host of its own: dockerd, then `schooner join` through its apiserver with the
    token and the CA's hash, then the agent and the proxy as the node (`schooner-node`,
    lab.node). No cluster file is mounted into it: the agent serves TLS with the
    kubelet-serving certificate its CertificateSigningRequest got (for its name and its
    fixed address) and takes client certificates of the discovered CA (the apiservers')."""
    apiserver = config.apiserver_for(index)
    return ContainerSpec(
        service=name,
        command=["schooner-node", "--join", f"{apiserver}:{APISERVER_PORT}",
                 "--token", token, "--discovery-token-ca-cert-hash", ca_cert_hash,
                 "--node-name", name, "--node-ip", config.node_address(index),
                 *config.failover_flags(index),
                 "--registry-mirror", f"registry:{REGISTRY_PORT}",
                 "--cluster-cidr", config.cluster_cidr,
                 "--service-cluster-ip-range", config.service_cidr,
                 "--cluster-dns", config.cluster_dns],
        networks=(config.lab_network,),
        volumes={f"{name}-docker": "/var/lib/docker", f"{name}-state": NODE_HOME},
        docker_in_docker=True, ipv4_address=config.node_address(index),
        extra_hosts=dict.fromkeys(BLOCKED_REGISTRIES, "127.0.0.1"),
        depends_on=("registry", *config.apiserver_names()))


def control_plane_containers(config: LabConfig) -> list[ContainerSpec]:
    """Every container of the lab but the nodes, in start order (lab/files.py makes their
    config folders from these)."""
    return [
        *(etcd_spec(config, n) for n in config.etcd_names()),
        *(apiserver_spec(config, i, n) for i, n in enumerate(config.apiserver_names())),
        registry_spec(config),
        *(scheduler_spec(config, i, n) for i, n in enumerate(config.scheduler_names())),
        *(controller_manager_spec(config, i, n)
          for i, n in enumerate(config.controller_manager_names())),
    ]


def lab_containers(config: LabConfig, token: str, ca_cert_hash: str) -> list[ContainerSpec]:
    """Every container of the lab, in start order; nodes join with `token`, trusting the CA
    whose public key hashes to `ca_cert_hash`."""
    return [
        *control_plane_containers(config),
        *(node_spec(config, i, n, token, ca_cert_hash)
          for i, n in enumerate(config.node_names())),
    ]
