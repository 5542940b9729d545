"""A controller-manager that signs CSRs with the test apiserver's own CA: the fixture the
CSR tests (test_certificates.py) and the bootstrap-token tests (test_bootstrap_tokens.py)
both need, written once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from apimachinery.kubeconfig import write_kubeconfig
from apimachinery.pki import write_private
from cli.cluster.processes import Apiserver, Process, start_controller_manager


@contextmanager
def signing_manager(server: Apiserver, token: str, workdir: Path, controllers: str,
                    *flags: str) -> Iterator[Process]:
    """`controllers` (csrsigning among them) as system:kube-controller-manager with `token`,
    csrsigning given `server`'s CA as its `--cluster-signing-*-file`s; stopped on exit."""
    config = workdir / "kubeconfig"
    write_kubeconfig(str(config), server.url, server.ca_pem, token,
                     user="system:kube-controller-manager")
    write_private(workdir / "ca.key", server.ca_key_pem)
    process = start_controller_manager(
        config, workdir / "kcm.log", "--controllers", controllers,
        "--cluster-signing-cert-file", str(server.workdir / "ca.crt"),
        "--cluster-signing-key-file", str(workdir / "ca.key"), *flags)
    try:
        yield process
    finally:
        process.stop()
