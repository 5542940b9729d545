"""csrsigning: sign approved requests with the cluster CA, as kube-controller-manager.

Kubernetes' signer (pkg/controller/certificates/signer) issues a certificate for
every approved, not failed, unsigned request whose signer it serves, with the CA
of `--cluster-signing-cert-file`/`--cluster-signing-key-file`, valid for the
requested `expirationSeconds` capped at `--cluster-signing-duration`, and never
past the CA itself; a request its signer's rules refuse gets a `Failed`
condition instead. Schooner serves the two kubelet signers
(`kube-apiserver-client-kubelet`, `kubelet-serving`): those a joining host needs.
The controller-manager is then the one process holding the CA key.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID

from apimachinery import csr, errors
from apimachinery.meta import Object, deep_copy, now_rfc3339

from ..base import Controller, ControllerClient, SharedInformerFactory
from . import policy

CSRS = "certificatesigningrequests"
BACKDATE = timedelta(minutes=5)  # Kubernetes' signer backdates by 5 minutes for skew
CHECKS = {csr.KUBE_APISERVER_CLIENT_KUBELET: policy.kubelet_client_problem,
          csr.KUBELET_SERVING: policy.kubelet_serving_problem}
_EXTENDED = {"client auth": ExtendedKeyUsageOID.CLIENT_AUTH,
             "server auth": ExtendedKeyUsageOID.SERVER_AUTH}


@dataclass(frozen=True)
class SigningCA:
    """The CA certificate and key the signer uses."""

    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

    @classmethod
    def load(cls, cert_file: str | Path, key_file: str | Path) -> SigningCA:
        cert = x509.load_pem_x509_certificate(Path(cert_file).read_bytes())
        key = serialization.load_pem_private_key(Path(key_file).read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
            raise ValueError("--cluster-signing-key-file: an EC or RSA private key is needed")
        return cls(cert, key)


def issue(ca: SigningCA, request: x509.CertificateSigningRequest, usages: list[str],
          lifetime: timedelta, now: datetime) -> bytes:
    """The certificate, PEM: the request's subject, key and subjectAltNames; the usages
    asked for; valid from `now` (backdated) for `lifetime`, but not past the CA."""
    not_after = min(now + lifetime, ca.cert.not_valid_after_utc)
    builder = (x509.CertificateBuilder()
               .subject_name(request.subject).issuer_name(ca.cert.subject)
               .public_key(request.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - BACKDATE).not_valid_after(not_after)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(
                   digital_signature="digital signature" in usages,
                   content_commitment=False,
                   key_encipherment="key encipherment" in usages, data_encipherment=False,
                   key_agreement=False, key_cert_sign=False, crl_sign=False,
                   encipher_only=False, decipher_only=False), critical=True)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                   ca.key.public_key()), critical=False))
    extended = [_EXTENDED[u] for u in usages if u in _EXTENDED]
    if extended:
        builder = builder.add_extension(x509.ExtendedKeyUsage(extended), critical=False)
    try:
        san = request.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        builder = builder.add_extension(san.value, critical=False)
    except x509.ExtensionNotFound:
        pass
    return builder.sign(ca.key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def lifetime_for(spec: Object, cap: float) -> timedelta:
    """expirationSeconds when asked for and shorter than the cap (at least 10 minutes)."""
    asked = spec.get("expirationSeconds")
    seconds = cap if not isinstance(asked, int) else min(max(asked, 600), cap)
    return timedelta(seconds=seconds)


class CSRSigningController(Controller):
    """Keyed by CSR name."""

    name = "csrsigning"

    def __init__(self, client: ControllerClient, factory: SharedInformerFactory, *,
                 ca: SigningCA, duration: float = 365 * 24 * 3600.0, **kwargs: Any) -> None:
        super().__init__(client, factory, **kwargs)
        self.ca, self.duration = ca, duration
        self.csrs = factory.informer(CSRS)
        self.csrs.add_event_handler(self.enqueue, lambda _old, new: self.enqueue(new))

    async def reconcile(self, key: str) -> None:
        obj = self.csrs.store.get(key)
        if obj is None or (obj.get("status") or {}).get("certificate"):
            return
        spec = obj.get("spec") or {}
        check = CHECKS.get(str(spec.get("signerName")))
        if check is None or not csr.condition(obj, "Approved") or csr.condition(obj, "Failed"):
            return
        try:
            request = csr.decode_request(str(spec.get("request") or ""))
        except csr.BadRequest as exc:
            await self._fail(key, obj, str(exc))
            return
        usages = list(spec.get("usages") or [])
        problem = check(csr.subject_of(request), usages)
        if problem is not None:
            await self._fail(key, obj, problem)
            return
        now = self.clock.now().astimezone(UTC)
        pem = issue(self.ca, request, usages, lifetime_for(spec, self.duration), now)
        signed = deep_copy(obj)
        signed.setdefault("status", {})["certificate"] = base64.b64encode(pem).decode()
        await self._write(signed)
        self.decision(key, "sign", signer=spec.get("signerName"))

    async def _fail(self, key: str, obj: Object, why: str) -> None:
        failed = deep_copy(obj)
        failed.setdefault("status", {}).setdefault("conditions", []).append({
            "type": "Failed", "status": "True", "reason": "SignerValidationFailure",
            "message": why, "lastUpdateTime": now_rfc3339()})
        await self._write(failed)
        self.decision(key, "fail", why=repr(why))

    async def _write(self, obj: Object) -> None:
        try:
            await self.client.update_status(CSRS, obj)
        except errors.NotFound:
            return
