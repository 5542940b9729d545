"""CertificateSigningRequest (certificates.k8s.io/v1): ask the cluster's CA for a certificate.

As in Kubernetes: a client posts a PEM certificate request, the signer it
names and the key usages it wants; the apiserver records who asked
(`spec.username`, `uid`, `groups`, from the request's authentication, never
from the body). An approver adds an `Approved` or `Denied` condition through
`/approval`, a signer puts the certificate into `status.certificate` through
`/status`. The spec never changes after create. The admission checks
Kubernetes runs are here too: approving needs the `approve` verb on the
signer (`signers`, resourceName the signerName or `domain/*`), writing a
certificate the `sign` verb (CertificateApproval, CertificateSigning), and a
`kubernetes.io/kube-apiserver-client` request may not ask for
`system:masters` (CertificateSubjectRestriction).

`spec.extra` is not served: Schooner's users carry no extra attributes.
The controller-manager's csrapproving and csrsigning controllers act on it
(controllers/certificates/).
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

from cryptography import x509

from apimachinery import csr, errors
from apimachinery.meta import Object, deep_copy, name_of, now_rfc3339
from apimachinery.models import CertificateSigningRequest
from apimachinery.printers import Layout, age
from apimachinery.resources import ResourceInfo
from apiserver import authorizer
from apiserver.kind import STATUS, Kind, ObjectSubresource, Strategy
from apiserver.registry import Registry
from apiserver.validation.fields import (
    Errs,
    as_dict,
    dict_items,
    duplicate,
    forbidden,
    invalid,
    is_int,
    not_supported,
    qualified_name,
    required,
)

RESOURCE = ResourceInfo(csr.GROUP, "v1", "CertificateSigningRequest",
                        "certificatesigningrequests", False, ("csr",),
                        selectable_fields=("spec.signerName",))
APPROVED, DENIED, FAILED = "Approved", "Denied", "Failed"
_DECISIONS = (APPROVED, DENIED)
_ONLY_TRUE = (APPROVED, DENIED, FAILED)
_CONDITION_STATUSES = ("True", "False", "Unknown")
MIN_EXPIRATION_SECONDS = 600
_MAX_INT32 = 2**31 - 1


# -- strategy -------------------------------------------------------------------------


def _requester_fields(spec: Object) -> None:
    """Kubernetes' PrepareForCreate: who asked comes from authentication, not the body."""
    for key in ("username", "uid", "groups", "extra"):
        spec.pop(key, None)
    requester = authorizer.REQUESTER.get()
    if requester is None:
        return
    user = requester.user
    spec["username"] = user.name
    if user.uid:
        spec["uid"] = user.uid
    if user.groups:
        spec["groups"] = list(user.groups)


def _conditions(obj: Object) -> list[Object]:
    return [c for _, c in dict_items(as_dict(obj.get("status")).get("conditions"))]


def _stamped(conditions: list[Object], old: list[Object]) -> list[Object]:
    """populateConditionTimestamps: a condition without times gets now as its update
    time, and as its transition time unless the stored one of its type had the same
    status (then that one's)."""
    now = now_rfc3339()
    before = {c.get("type"): c for c in old}
    for cond in conditions:
        cond.setdefault("status", "True")
        cond.setdefault("lastUpdateTime", now)
        if "lastTransitionTime" not in cond:
            prior = before.get(cond.get("type")) or {}
            same = prior.get("status", "True") == cond["status"]
            cond["lastTransitionTime"] = prior.get("lastTransitionTime") if same and \
                prior.get("lastTransitionTime") else now
    return conditions


class CertificateSigningRequestStrategy(Strategy):
    """Spec fixed at create; /status writes the certificate and Failed; /approval the
    Approved or Denied decision; a plain update changes only metadata."""

    tracks_generation = False

    def prepare_for_create(self, obj: Object) -> None:
        super().prepare_for_create(obj)
        spec = obj.get("spec")
        if isinstance(spec, dict):
            _requester_fields(spec)

    def prepare_for_update(self, new: Object, old: Object) -> None:
        new["spec"] = deep_copy(old.get("spec"))
        super().prepare_for_update(new, old)

    def prepare_for_status_update(self, new: Object, old: Object) -> Object:
        """The certificate and non-decision conditions from the body; the decisions as
        they were (they change through /approval only)."""
        merged = super().prepare_for_status_update(new, old)
        olds = _conditions(old)
        kept = [c for c in olds if c.get("type") in _DECISIONS]
        given = [c for c in _conditions(merged) if c.get("type") not in _DECISIONS]
        return _with_conditions(merged, kept + _stamped(given, olds))

    def prepare_for_subresource_update(self, subresource: str, new: Object,
                                       old: Object) -> Object:
        """`/approval`: the Approved/Denied conditions from the body, the rest as stored."""
        if subresource != "approval":
            return super().prepare_for_subresource_update(subresource, new, old)
        merged = deep_copy(old)
        merged["metadata"]["resourceVersion"] = as_dict(new.get("metadata")).get(
            "resourceVersion", "")
        olds = _conditions(old)
        given = [c for c in _conditions(new) if c.get("type") in _DECISIONS]
        kept = [c for c in olds if c.get("type") not in _DECISIONS]
        return _with_conditions(merged, _stamped(given, olds) + kept)


def _with_conditions(obj: Object, conditions: list[Object]) -> Object:
    status = obj.setdefault("status", {}) if isinstance(obj.get("status"), dict) or \
        "status" not in obj else obj["status"]
    if isinstance(status, dict):
        if conditions:
            status["conditions"] = conditions
        else:
            status.pop("conditions", None)
        if not status:
            obj.pop("status", None)
    return obj


# -- defaults and validation ----------------------------------------------------------


def default_csr(obj: Object) -> None:
    """SetDefaults_CertificateSigningRequestCondition: a condition's status is True."""
    for cond in _conditions(obj):
        if not cond.get("status"):
            cond["status"] = "True"


def validate_csr(obj: Object, old: Object | None) -> Errs:
    """ValidateCertificateSigningRequest(Create|Update|StatusUpdate|ApprovalUpdate)."""
    spec = as_dict(obj.get("spec"))
    errs = _validate_request(spec.get("request"))
    errs += _validate_signer(spec.get("signerName"))
    errs += _validate_usages(spec.get("usages"))
    seconds = spec.get("expirationSeconds")
    if is_int(seconds) and not MIN_EXPIRATION_SECONDS <= seconds <= _MAX_INT32:
        errs.append(invalid("spec.expirationSeconds", seconds,
                            f"may not specify a duration less than {MIN_EXPIRATION_SECONDS} "
                            "seconds (10 minutes)" if seconds < MIN_EXPIRATION_SECONDS
                            else "may not specify a duration larger than 2^31-1 seconds"))
    errs += _validate_conditions(obj)
    errs += _validate_certificate(obj, old)
    return errs


def _validate_request(request: Any) -> Errs:
    if not request:
        return [required("spec.request")]
    if not isinstance(request, str):
        return []  # the type pass names it
    try:
        csr.decode_request(request)
    except csr.BadRequest as exc:
        return [invalid("spec.request", "<certificate request>", str(exc))]
    return []


def _validate_signer(signer: Any) -> Errs:
    """A qualified name `domain/path`, the domain a DNS subdomain (ValidateSignerName)."""
    if not signer:
        return [required("spec.signerName")]
    if not isinstance(signer, str):
        return []
    if signer == csr.LEGACY_UNKNOWN:
        return [invalid("spec.signerName", signer,
                        "the legacy signerName is not allowed via this API version")]
    domain, slash, path = signer.partition("/")
    if not slash or not domain or not path:
        return [invalid("spec.signerName", signer,
                        "must be a fully qualified domain and path of the form "
                        "'example.com/signer-name'")]
    problems = qualified_name(domain) if "." in domain else ["should be a domain with at "
                                                              "least two segments separated "
                                                              "by dots"]
    if len(signer) > 571:
        problems.append("must be no more than 571 characters")
    return [invalid("spec.signerName", signer, p) for p in problems]


def _validate_usages(usages: Any) -> Errs:
    if not isinstance(usages, list):
        return [required("spec.usages")] if usages is None else []
    if not usages:
        return [required("spec.usages")]
    errs: Errs = []
    seen: set[str] = set()
    for i, usage in enumerate(usages):
        path = f"spec.usages[{i}]"
        if isinstance(usage, str) and usage not in csr.KEY_USAGES:
            errs.append(not_supported(path, usage, csr.KEY_USAGES))
        elif usage in seen:
            errs.append(duplicate(path, usage))
        if isinstance(usage, str):
            seen.add(usage)
    return errs


def _validate_conditions(obj: Object) -> Errs:
    errs: Errs = []
    seen: set[str] = set()
    for i, cond in dict_items(as_dict(obj.get("status")).get("conditions")):
        path = f"status.conditions[{i}]"
        kind, status = cond.get("type"), cond.get("status")
        if not kind:
            errs.append(required(f"{path}.type"))
        elif kind in _ONLY_TRUE and kind in seen:
            errs.append(duplicate(f"{path}.type", kind))
        if isinstance(kind, str):
            seen.add(kind)
        if kind in _ONLY_TRUE and status != "True":
            errs.append(not_supported(f"{path}.status", status, ("True",)))
        elif isinstance(status, str) and status not in _CONDITION_STATUSES:
            errs.append(not_supported(f"{path}.status", status, _CONDITION_STATUSES))
    if APPROVED in seen and DENIED in seen:
        errs.append(invalid("status.conditions", "Approved, Denied",
                            "Approved and Denied conditions are mutually exclusive"))
    return errs


def _validate_certificate(obj: Object, old: Object | None) -> Errs:
    status = as_dict(obj.get("status"))
    cert = status.get("certificate")
    before = as_dict(as_dict(old).get("status")).get("certificate") if old else None
    if before and cert != before:
        return [invalid("status.certificate", "<certificate data>",
                        "updates may not modify existing certificate content")]
    if not cert or not isinstance(cert, str) or cert == before:
        return []
    if not csr.condition(obj, APPROVED) or csr.condition(obj, FAILED):
        return [forbidden("status.certificate",
                          "may only be set on an Approved request that has not Failed")]
    try:
        pem = base64.b64decode(cert, validate=True)
        certs = x509.load_pem_x509_certificates(pem)
    except (binascii.Error, ValueError):
        certs = []
    if not certs:
        return [invalid("status.certificate", "<certificate data>",
                        "must contain at least one CERTIFICATE PEM block")]
    return []


# -- admission ------------------------------------------------------------------------


async def admit_csr(registry: Registry, resource: ResourceInfo, namespace: str | None,
                    obj: Object, old: Object | None) -> None:
    """CertificateApproval, CertificateSigning and CertificateSubjectRestriction."""
    if (resource.group, resource.plural) != (RESOURCE.group, RESOURCE.plural):
        return
    requester = authorizer.REQUESTER.get()
    signer = str(as_dict(obj.get("spec")).get("signerName") or "")
    if old is None:
        _restrict_subject(obj, signer)
        return
    if requester is None:
        return
    decided = [c for c in _conditions(obj) if c.get("type") in _DECISIONS]
    if decided != [c for c in _conditions(old) if c.get("type") in _DECISIONS]:
        await _may(requester, "approve", signer, name_of(obj))
    new_cert = as_dict(obj.get("status")).get("certificate")
    if new_cert and new_cert != as_dict(old.get("status")).get("certificate"):
        await _may(requester, "sign", signer, name_of(obj))


def _restrict_subject(obj: Object, signer: str) -> None:
    if signer != csr.KUBE_APISERVER_CLIENT:
        return
    request = as_dict(obj.get("spec")).get("request")
    try:
        subject = csr.subject_of(csr.decode_request(str(request)))
    except csr.BadRequest:
        return
    if "system:masters" in subject.organizations:
        raise errors.Forbidden(
            f'certificatesigningrequests.certificates.k8s.io "{name_of(obj)}" is forbidden: '
            f'use of {signer} signer with system:masters group is not allowed')


async def _may(requester: authorizer.Requester, verb: str, signer: str, name: str) -> None:
    """The verb on `signers` named the signerName or its `domain/*` (Kubernetes'
    certificates.IsAuthorizedForSignerName)."""
    for resource_name in (signer, signer.partition("/")[0] + "/*"):
        attrs = authorizer.Attributes(requester.user, verb, api_group=csr.GROUP,
                                      api_version="v1", resource="signers",
                                      name=resource_name)
        if (await requester.authorizer.authorize(attrs)).allowed:
            return
    raise errors.Forbidden(
        f'certificatesigningrequests.certificates.k8s.io "{name}" is forbidden: user not '
        f'permitted to {verb} requests with signerName "{signer}"')


# -- the /approval subresource --------------------------------------------------------


class ApprovalSubresource(ObjectSubresource):
    """`certificatesigningrequests/{name}/approval`: where Approved or Denied is written
    (`kubectl certificate approve|deny` PUTs the whole object here)."""

    name = "approval"


def _condition_column(obj: Object) -> str:
    names = [str(c.get("type")) for c in _conditions(obj) if c.get("status", "True") == "True"]
    if as_dict(obj.get("status")).get("certificate"):
        names.append("Issued")
    return ",".join(names) or "Pending"


def _row(obj: Object, now: datetime) -> list[Any]:
    spec = as_dict(obj.get("spec"))
    seconds = spec.get("expirationSeconds")
    duration = f"{seconds // 60}m" if is_int(seconds) and seconds < 7200 else \
        f"{seconds // 3600}h" if is_int(seconds) else "<none>"
    return [name_of(obj), age(obj, now), spec.get("signerName") or "",
            spec.get("username") or "", duration, _condition_column(obj)]


KIND = Kind(
    resource=RESOURCE,
    model=CertificateSigningRequest,
    strategy=CertificateSigningRequestStrategy(),
    default=default_csr,
    validate=validate_csr,
    table=Layout("Name,Age,SignerName,Requestor,RequestedDuration,Condition", _row),
    subresources=(STATUS, ApprovalSubresource()),
    admission=admit_csr,
)
