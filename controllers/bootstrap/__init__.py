"""The bootstrap-token controllers: bootstrapsigner (signer.py) and tokencleaner
(cleaner.py), as kube-controller-manager's pkg/controller/bootstrap."""

from .cleaner import TokenCleaner
from .signer import BootstrapSigner

__all__ = ["BootstrapSigner", "TokenCleaner"]
