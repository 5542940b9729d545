"""The agent's serving certificate when none is given: self-signed, as the kubelet's.

Without `--tls-cert-file`, the kubelet makes a certificate of its own (a CA of
its own signing a certificate for the host name and the node's addresses) in
its `--cert-dir` and keeps it across restarts. An apiserver with
`--kubelet-certificate-authority` will not trust it, so a cluster that verifies
its agents gives each one a certificate of the cluster CA (`schooner up`, the lab).
"""

from __future__ import annotations

import logging
from pathlib import Path

from apimachinery.pki import make_ca, make_serving_cert, write_private

log = logging.getLogger(__name__)


def ensure_self_signed(cert_dir: Path, node_name: str, node_ip: str) -> tuple[Path, Path]:
    """(certificate, key) in `cert_dir`, made once: `agent.crt`, `agent.key` (0600)."""
    cert, key = cert_dir / "agent.crt", cert_dir / "agent.key"
    if cert.exists() and key.exists():
        return cert, key
    cert_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    ca_cert, ca_key = make_ca(f"{node_name}-ca")
    cert_pem, key_pem = make_serving_cert(ca_cert, ca_key, hosts=[node_name, node_ip],
                                          common_name=node_name)
    write_private(key, key_pem)
    cert.write_bytes(cert_pem + ca_cert)
    log.info("component=agent no --tls-cert-file: made a self-signed serving certificate "
             "path=%s", cert)
    return cert, key
