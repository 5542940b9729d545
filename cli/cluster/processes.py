"""etcd (one member or a cluster), an apiserver or a controller-manager as child processes.

Unlike `cli.cluster.supervisor`'s detached components, these belong to the
process that starts them (an integration test's fixture, a benchmark): each
gets its own data directory and is stopped by the PID it was given (SIGTERM,
then SIGKILL), so nothing outlives a test session or a benchmark run.
`wait_for` is the poll-with-a-deadline they (and their callers) wait with.
"""

from __future__ import annotations

import functools
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx

from apimachinery.auditpolicy import ensure_default_policy
from apimachinery.client import AsyncClient, Client
from apimachinery.etcdpki import (
    EtcdClientTLS,
    EtcdServerTLS,
    ensure_client,
    ensure_etcd_ca,
    ensure_member,
)
from apimachinery.pki import (
    TokenEntry,
    make_ca,
    make_serving_cert,
    new_token,
    write_private,
    write_token_file,
)
from apimachinery.sakey import ensure_service_account_key
from apimachinery.usercert import KUBELET_CLIENT_USER, make_client_cert
from apiserver import encryption
from cli.cluster.components import apiserver_command, etcd_command, find_etcd

T = TypeVar("T")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(condition: Callable[[], T], timeout: float, what: str,
             interval: float = 0.05) -> T:
    """Poll `condition` until it returns something truthy; fail saying what was last seen."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            result = condition()
            last = result
            if result:
                return result
        except Exception as exc:  # the condition may fail while things start
            last = exc
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last saw: {last!r}")


@dataclass
class Process:
    """A child process we started, with its log, stopped by its PID only."""

    name: str
    argv: list[str]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.popen = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, start_new_session=True,
                                      env={**os.environ, **self.env})
        log.close()

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def kill(self) -> None:
        """`kill -9`: the crash the design says every component must survive."""
        if self.popen and self.popen.poll() is None:
            os.kill(self.popen.pid, signal.SIGKILL)
            self.popen.wait(10)

    def signal(self, sig: int) -> None:
        """Send `sig` to this process (by its PID) if it still runs."""
        if self.popen and self.popen.poll() is None:
            os.kill(self.popen.pid, sig)

    def stop(self) -> None:
        if self.popen and self.popen.poll() is None:
            os.kill(self.popen.pid, signal.SIGCONT)  # a frozen process cannot act on SIGTERM
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class Etcd:
    """An etcd member on free loopback ports with a fresh data dir: alone, or one of an
    `EtcdCluster` when given the cluster's `initial_cluster`.

    Plain HTTP by default, for speed. With `tls`, it is private as `schooner up`'s and
    the lab's: TLS with client certificates of an etcd CA on both ports. The CA is
    `ca_dir`'s (a cluster's members share one), else made in `workdir/etcd-ca`;
    `client_tls` is then the apiserver's client certificate, and `http()` a JSON
    gateway client that presents it.
    """

    def __init__(self, workdir: Path, *, name: str = "test",
                 ports: tuple[int, int] | None = None,
                 initial_cluster: str | None = None, cluster_token: str | None = None,
                 tls: bool = False, ca_dir: Path | None = None) -> None:
        self.name = name
        self.client_port, self.peer_port = ports or (free_port(), free_port())
        scheme = "https" if tls else "http"
        self.url = f"{scheme}://127.0.0.1:{self.client_port}"
        workdir.mkdir(parents=True, exist_ok=True)
        self.client_tls: EtcdClientTLS | None = None
        server_tls = None
        if tls:
            ca_dir = ca_dir or workdir / "etcd-ca"
            ensure_etcd_ca(ca_dir)
            server_tls = EtcdServerTLS.in_dir(workdir / "pki")
            ensure_member(ca_dir, server_tls, name, ["127.0.0.1", "localhost"])
            self.client_tls = EtcdClientTLS.in_dir(ca_dir / "apiserver")
            ensure_client(ca_dir, self.client_tls)
        flags = ["--log-level", "warn"]
        if cluster_token:
            flags += ["--initial-cluster-token", cluster_token]
        self.process = Process("etcd", etcd_command(
            find_etcd(), name, workdir / "data", self.client_port, self.peer_port,
            *flags, initial_cluster=initial_cluster, tls=server_tls), workdir / "etcd.log")

    def start(self) -> Etcd:
        """Start (or start again, on the same ports and data) and wait until healthy."""
        self.launch()
        try:
            self.wait_healthy(20)
        except BaseException:
            self.process.stop()  # a fixture that fails to start never reaches its teardown
            raise
        return self

    def launch(self) -> None:
        """Start without waiting: a cluster's members wait for each other to be healthy."""
        self.process.start()

    def wait_healthy(self, timeout: float) -> None:
        wait_for(self.healthy, timeout, f"etcd health at {self.url}\n{self.process.log_tail()}")

    def http(self, timeout: float = 5) -> httpx.Client:
        """A client of etcd's JSON gateway (`/v3/...`, `/health`) at `url`: over TLS with
        the apiserver's client certificate when etcd is private."""
        return httpx.Client(base_url=self.url, timeout=timeout, verify=self.ssl_context(),
                            trust_env=False)

    def ssl_context(self) -> ssl.SSLContext | bool:
        """What an HTTP client of this etcd verifies with: the etcd CA and the apiserver's
        client certificate when etcd is private; True (nothing to present) when plain."""
        if self.client_tls is None:
            return True
        tls = self.client_tls
        context = ssl.create_default_context(cafile=str(tls.ca))
        context.load_cert_chain(str(tls.cert), str(tls.key))
        return context

    def healthy(self) -> bool:
        """etcd's /health: 200 once this member has a leader and no alarm."""
        with self.http(timeout=1) as http:
            return http.get("/health").status_code == 200

    def stop(self) -> None:
        self.process.stop()

    def kill(self) -> None:
        self.process.kill()

    def freeze(self) -> None:
        """SIGSTOP: the member keeps its sockets open but answers nothing (a half-open peer)."""
        self.process.signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self.process.signal(signal.SIGCONT)

    def compact(self) -> int:
        """Compact etcd to its current revision (etcdctl-free: the v3 JSON gateway)."""
        with self.http(timeout=10) as http:
            rev = int(http.post("/v3/kv/range", json={"key": "AA=="}).json()["header"]["revision"])
            http.post("/v3/kv/compaction", json={"revision": rev, "physical": True}
                      ).raise_for_status()
        return rev


class EtcdCluster:
    """`size` etcd members on loopback ports forming one new cluster; `url` lists them all,
    as an apiserver's `--etcd-servers` takes them. With `tls`, the members share one etcd
    CA and talk to each other over TLS too (peer certificates)."""

    def __init__(self, workdir: Path, size: int = 3, *, tls: bool = False) -> None:
        names = [f"member{i}" for i in range(1, size + 1)]
        ports = [(free_port(), free_port()) for _ in names]
        scheme = "https" if tls else "http"
        initial = ",".join(f"{n}={scheme}://127.0.0.1:{peer}" for n, (_, peer) in zip(
            names, ports, strict=True))
        token = f"schooner-test-{workdir.name}-{os.getpid()}"
        self.members = [Etcd(workdir / n, name=n, ports=p, initial_cluster=initial,
                             cluster_token=token, tls=tls, ca_dir=workdir / "etcd-ca")
                        for n, p in zip(names, ports, strict=True)]
        self.url = ",".join(m.url for m in self.members)
        self.client_tls = self.members[0].client_tls

    def start(self) -> EtcdCluster:
        try:
            for member in self.members:
                member.launch()
            for member in self.members:
                member.wait_healthy(30)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        for member in self.members:
            member.stop()


@functools.cache
def _process_encryption_config() -> str:
    """One EncryptionConfiguration (a fresh key) for every Apiserver of this process."""
    return encryption.new_config(["secrets"])


class Apiserver:
    """`python -m apiserver` over TLS with a static admin token, on a free port; client
    certificates signed by its CA (`ca_pem`, `ca_key_pem`) authenticate too, and it
    issues service-account tokens (its own `sa.key`).

    As `schooner up` runs it: Secrets encrypted at rest, the default audit policy
    (`audit.log` in its workdir) and `--authorization-mode Node,RBAC`, so every test on
    it exercises all three, and a component a test starts with its own identity
    (`component_kubeconfig`) has only its bootstrap role's rights; a test's own
    `extra_args` come after and win. Every apiserver this process starts has the same
    key (made once per process), so several may share one etcd.

    Unlike `schooner up`'s, it runs without the ServiceAccount admission plugin unless
    `service_accounts` is set, as Kubernetes' integration framework runs its apiservers:
    no controller-manager makes the namespaces' `default` ServiceAccounts here, and no
    root-ca-cert-publisher the `kube-root-ca.crt` a pod's projected token volume reads.
    """

    def __init__(self, workdir: Path, etcd_url: str, *, extra_args: list[str] | None = None,
                 etcd_tls: EtcdClientTLS | None = None,
                 users: Sequence[TokenEntry] = (), bind_address: str = "127.0.0.1",
                 port: int | None = None, service_accounts: bool = False) -> None:
        """`users` are more token file entries beside the admin's (other identities);
        `etcd_tls` the client certificate for a TLS etcd; `bind_address` (a loopback
        address) and `port` let several apiservers share one port, as a cluster's do;
        `service_accounts` keeps the ServiceAccount admission (pods default to, and
        mount, a ServiceAccount's token)."""
        workdir.mkdir(parents=True, exist_ok=True)
        self.workdir = workdir
        self.bind_address = bind_address
        self.port = port or free_port()
        self.url = f"https://{bind_address}:{self.port}"
        self.token = new_token()
        ca_cert, ca_key = make_ca()
        cert, key = make_serving_cert(ca_cert, ca_key,
                                      hosts=list(dict.fromkeys([bind_address, "127.0.0.1",
                                                                "localhost"])))
        self.ca_pem, self.ca_key_pem = ca_cert, ca_key
        # Its client certificate towards agents, and their CA (its own): as `up` runs it.
        kubelet_cert, kubelet_key = make_client_cert(ca_cert, ca_key, KUBELET_CLIENT_USER)
        (workdir / "kubelet-client.crt").write_bytes(kubelet_cert)
        write_private(workdir / "kubelet-client.key", kubelet_key)
        extra_args = ["--client-ca-file", str(workdir / "ca.crt"),
                      "--kubelet-client-certificate", str(workdir / "kubelet-client.crt"),
                      "--kubelet-client-key", str(workdir / "kubelet-client.key"),
                      "--kubelet-certificate-authority", str(workdir / "ca.crt"),
                      "--authorization-mode", "Node,RBAC",
                      "--service-account-signing-key-file",
                      str(ensure_service_account_key(workdir / "sa.key")),
                      *([] if service_accounts else ["--disable-admission-plugins",
                                                     "ServiceAccount"]),
                      *(extra_args or [])]
        for name, data in (("ca.crt", ca_cert), ("apiserver.crt", cert),
                           ("apiserver.key", key)):
            (workdir / name).write_bytes(data)
        write_token_file(workdir / "tokens.csv", [
            TokenEntry(self.token, "admin", "admin", ("system:masters",)), *users])
        (workdir / "encryption.yaml").write_text(_process_encryption_config())
        ensure_default_policy(workdir / "audit-policy.yaml")
        self.audit_log = workdir / "audit.log"
        self._etcd_url, self._extra_args = etcd_url, list(extra_args or [])
        self._etcd_tls = etcd_tls
        self.process = self._process()

    def _process(self) -> Process:
        return Process("apiserver", apiserver_command(
            self._etcd_url, self.port, self.workdir / "apiserver.crt",
            self.workdir / "apiserver.key", self.workdir / "tokens.csv",
            "--encryption-provider-config", str(self.workdir / "encryption.yaml"),
            "--audit-policy-file", str(self.workdir / "audit-policy.yaml"),
            "--audit-log-path", str(self.audit_log), "--bind-address", self.bind_address,
            *self._extra_args, etcd_tls=self._etcd_tls), self.workdir / "apiserver.log")

    def start(self) -> Apiserver:
        """Start and wait for readyz. A free port can be taken by another process between
        free_port() and the bind; then the apiserver starts again on another port."""
        for attempt in range(3):
            self.process.start()
            try:
                wait_for(self.ready, 30,
                         f"apiserver readyz at {self.url}\n{self.process.log_tail()}")
                return self
            except BaseException:
                self.process.stop()  # a fixture that fails to start never reaches its teardown
                if attempt == 2 or "address already in use" not in self.process.log_tail():
                    raise
            self.port = free_port()
            self.url = f"https://{self.bind_address}:{self.port}"
            self.process = self._process()
        raise AssertionError("unreachable")

    def ready(self) -> bool:
        if self.process.popen and self.process.popen.poll() is not None:
            raise AssertionError(f"apiserver exited:\n{self.process.log_tail()}")
        with httpx.Client(verify=self._ssl(), timeout=2) as http:
            return http.get(f"{self.url}/readyz").status_code == 200

    def _ssl(self) -> Any:
        import ssl
        return ssl.create_default_context(cadata=self.ca_pem.decode())

    def client(self) -> Client:
        return Client(self.url, token=self.token, ca_data=self.ca_pem)

    def async_client(self) -> AsyncClient:
        return AsyncClient(self.url, token=self.token, ca_data=self.ca_pem)

    def http(self, token: str | None = "admin") -> httpx.Client:
        """A raw HTTP client, for requests the typed client would refuse to send."""
        headers = {"Authorization": f"Bearer {self.token}"} if token == "admin" else (
            {"Authorization": f"Bearer {token}"} if token else {})
        return httpx.Client(base_url=self.url, verify=self._ssl(), headers=headers, timeout=30)

    def stop(self) -> None:
        self.process.stop()

    def kubeconfig(self, path: Path) -> Path:
        """The admin's kubeconfig (system:masters): for tests and the CLI, never a component."""
        from apimachinery.kubeconfig import write_kubeconfig
        write_kubeconfig(str(path), self.url, self.ca_pem, self.token)
        return path

    def identity_kubeconfig(self, path: Path, user: str, groups: Sequence[str] = ()) -> Path:
        """A kubeconfig with a client certificate of this apiserver's CA for `user` in
        `groups` (CN and O's, as kubeadm issues them)."""
        from apimachinery.kubeconfig import write_kubeconfig
        from apimachinery.usercert import make_client_cert
        cert, key = make_client_cert(self.ca_pem, self.ca_key_pem, user, groups)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_kubeconfig(str(path), self.url, self.ca_pem, None, user=user, client_cert=cert,
                         client_key=key)
        return path

    def component_kubeconfig(self, path: Path, component: str, node: str = "") -> Path:
        """The kubeconfig of a component (`controller-manager`, `scheduler`, `proxy`, or
        `agent` of `node`) under the identity `schooner up` gives it
        (cli/cluster/credentials.py), so it may do only what its role allows."""
        from cli.cluster.credentials import component_identity
        user, groups = (component_identity(component, node) if node
                        else component_identity(component))
        return self.identity_kubeconfig(path, user, groups)


@contextmanager
def own_control_plane(workdir: Path) -> Iterator[Apiserver]:
    """An etcd and apiserver of the caller's own (a module whose cluster-scoped objects,
    Nodes say, must not meet other modules'); both stopped afterwards."""
    etcd = Etcd(workdir / "etcd")
    server = Apiserver(workdir / "apiserver", etcd.url)
    try:
        etcd.start()
        server.start()
        yield server
    finally:
        server.stop()
        etcd.stop()


def start_controller_manager(kubeconfig: Path, log_path: Path, *flags: str,
                             timeout: float = 30.0) -> Process:
    """`python -m controllers FLAGS`, ready once its caches have synced; stopped if it
    never gets there (or exits first)."""
    proc = Process("controller-manager", [sys.executable, "-m", "controllers",
                                          "--kubeconfig", str(kubeconfig), "-v", "2",
                                          "--secure-port", "0", *flags], log_path)
    proc.start()
    try:
        assert proc.popen is not None
        popen = proc.popen
        wait_for(lambda: "caches synced" in log_path.read_text(errors="replace")
                 or popen.poll() is not None, timeout,
                 f"controller-manager to sync\n{proc.log_tail()}")
        assert popen.poll() is None, f"controller-manager exited:\n{proc.log_tail()}"
    except BaseException:
        proc.stop()
        raise
    return proc
