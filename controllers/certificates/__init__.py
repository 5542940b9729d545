"""The certificate controllers: csrapproving (approver.py) and csrsigning (signer.py),
with the pure rules they share (policy.py)."""

from .approver import CSRApprovingController
from .signer import CSRSigningController, SigningCA

__all__ = ["CSRApprovingController", "CSRSigningController", "SigningCA"]
