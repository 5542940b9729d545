"""--anonymous-auth: who a request without credentials is, and never with AlwaysAllow."""

from __future__ import annotations

import asyncio

import pytest

from apimachinery import errors
from apiserver.auth import ANONYMOUS, Authenticator
from apiserver.main import main, parse_args


def test_refused_with_always_allow() -> None:
    with pytest.raises(SystemExit, match="not allowed with the AlwaysAllow authorizer"):
        main(["--anonymous-auth"])
    assert parse_args(["--anonymous-auth=false"]).anonymous_auth is False
    assert parse_args(["--anonymous-auth=true"]).anonymous_auth is True
    assert parse_args([]).anonymous_auth is False


def test_only_a_request_with_no_credentials_is_anonymous(tmp_path: object) -> None:
    async def lookup(plural: str, namespace: str, name: str) -> None:
        return None

    anonymous = Authenticator(None, "ca.crt", None, lookup, anonymous=True,
                              bootstrap_tokens=True)
    closed = Authenticator(None, "ca.crt", None, lookup, bootstrap_tokens=True)

    async def scenario() -> None:
        assert await anonymous.authenticate(None, None) == ANONYMOUS
        assert await anonymous.authenticate("  ", None) == ANONYMOUS
        for authorization in ("Bearer nope", "Bearer abcdef.0123456789abcdef", "Basic x"):
            with pytest.raises(errors.Unauthorized):
                await anonymous.authenticate(authorization, None)
        with pytest.raises(errors.Unauthorized):
            await closed.authenticate(None, None)
    asyncio.run(scenario())
