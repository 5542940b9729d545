"""Typed core/v1 ServiceAccount: an identity for processes in pods.

Its tokens are issued by the TokenRequest subresource (authentication.k8s.io/v1
TokenRequest, models/authentication.py); Schooner serves none of the legacy
token Secrets, so `secrets` and `imagePullSecrets` are not fields here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, ClassVar

from apimachinery.models.meta import Kind, TypedObject
from apimachinery.models.schema import ProtobufHint, field


class ServiceAccount(TypedObject):
    """A namespaced identity: the user `system:serviceaccount:NAMESPACE:NAME`."""

    protobuf_hints: ClassVar[Mapping[str, ProtobufHint]] = {
        "automountServiceAccountToken": "pointer"}

    kind: Kind = "ServiceAccount"
    automount_service_account_token: Annotated[bool | None, field(
        "Whether pods using this account get its token mounted. Schooner mounts no "
        "token into pods yet, so false is what every pod gets.", protobuf=4)] = None



