"""Bootstrap token Secrets, as `kubeadm token create|list|delete` manage them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from apimachinery import bootstraptoken as bt
from apimachinery import errors
from apimachinery.client import Client


def create_token(client: Client, *, token: str | None = None,
                 ttl: timedelta = bt.DEFAULT_TTL, usages: Sequence[str] = bt.USAGES,
                 groups: Sequence[str] = (bt.DEFAULT_GROUP,), description: str = "",
                 now: datetime | None = None) -> bt.BootstrapToken:
    """A new token Secret in kube-system (ValueError for a bad token, usage or group)."""
    token_id, secret = bt.parse(token or bt.new_token())
    unknown = [u for u in usages if u not in bt.USAGES]
    if unknown:
        raise ValueError(f"--usages: {', '.join(unknown)} is not one of {', '.join(bt.USAGES)}")
    if bad := bt.valid_groups(groups):
        raise ValueError(f"--groups: {', '.join(bad)}: each group must start with "
                         f"{bt.GROUP}:")
    made = bt.BootstrapToken(token_id, secret,
                             bt.ttl_expiration(ttl, now or datetime.now(UTC)),
                             frozenset(usages), tuple(groups), description)
    try:
        client.create("secrets", bt.to_secret(made), namespace=bt.NAMESPACE)
    except errors.AlreadyExists:
        raise ValueError(f'a token with id "{token_id}" already exists') from None
    return made


def list_tokens(client: Client) -> list[bt.BootstrapToken]:
    secrets = client.list("secrets", namespace=bt.NAMESPACE).get("items") or []
    found = (bt.from_secret(s) for s in secrets)
    return sorted((t for t in found if t is not None), key=lambda t: t.id)


def delete_token(client: Client, token_or_id: str) -> str:
    """Delete by id or whole token; the id deleted."""
    token_id = token_or_id.split(".", 1)[0]
    if not bt.TOKEN_PATTERN.match(f"{token_id}.{'a' * 16}"):
        raise ValueError(f'"{token_or_id}" is neither a token id nor a token')
    client.delete("secrets", bt.secret_name(token_id), namespace=bt.NAMESPACE)
    return token_id
