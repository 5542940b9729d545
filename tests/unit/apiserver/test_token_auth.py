"""Bearer tokens the apiserver and the agent's server cannot match are a 401, never a 500."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from agent.server.auth import Authenticator as AgentAuthenticator
from agent.server.auth import Verdict
from apimachinery import errors
from apimachinery.clock import FakeClock
from apiserver.auth import TokenAuthenticator


@pytest.fixture
def authn(tmp_path: Path) -> TokenAuthenticator:
    tokens = tmp_path / "tokens.csv"
    tokens.write_text('s3cret,alice,uid-1,"dev"\n')
    return TokenAuthenticator(str(tokens))


def test_a_known_token_names_its_user(authn: TokenAuthenticator) -> None:
    user = authn.authenticate("Bearer s3cret")
    assert (user.name, user.groups) == ("alice", ("dev", "system:authenticated"))


@pytest.mark.parametrize("header", [
    "Bearer s3cr\u00e9t",         # Latin-1, as a header arrives decoded (was a TypeError)
    "Bearer \u00ff\u00fe",
    "Bearer \U0001f600",
    "Bearer \udcff",              # a lone surrogate
    "Bearer wrong", "Bearer ", "Basic czNjcmV0", None,
])
def test_an_unmatched_token_is_401(authn: TokenAuthenticator, header: str | None) -> None:
    with pytest.raises(errors.Unauthorized):
        authn.authenticate(header)


class _NeverAsked:
    async def request(self, method: str, path: str, **kwargs: Any) -> Any:
        raise AssertionError("a token no apiserver could take is never sent on")


@pytest.mark.parametrize("token", ["s3cr\u00e9t", "a\x00b", "\U0001f600"])
def test_the_agent_refuses_a_token_it_could_not_send_on(token: str) -> None:
    """A bearer token is RFC 6750's b64token: the agent asks the apiserver about none other."""
    agent = AgentAuthenticator(_NeverAsked(), FakeClock())  # type: ignore[arg-type]
    assert asyncio.run(agent.authenticate(f"Bearer {token}")).verdict is Verdict.DENIED
