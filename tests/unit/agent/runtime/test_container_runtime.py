"""One `ContainerRuntime` Protocol: the Docker runtime and every unit-test fake implement it.

The Protocol is what the pod sync, PLEG, prober, hooks, images, termination and
server are typed against; these checks keep the Docker runtime and the fakes
from drifting away from it (same methods, same parameters) until the type
checker sees them too.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any

import pytest

from agent.runtime.docker_runtime import DockerRuntime
from agent.runtime.protocol import ContainerRuntime
from apimachinery.clock import FakeClock
from tests.unit.agent.fakes import FakeRuntime, UnusedRuntime
from tests.unit.agent.helpers import NOW


class NoDocker:
    """Enough of a docker client for the runtime's constructor; no call reaches it."""

    api = None

    def close(self) -> None:
        pass


def protocol_members() -> set[str]:
    return {name for name in dir(ContainerRuntime)
            if not name.startswith("_") and name in ContainerRuntime.__dict__} | {"network"}


def public_members(cls: type) -> set[str]:
    return {name for name, value in inspect.getmembers(cls)
            if not name.startswith("_") and callable(value)}


def parameters(fn: Callable[..., Any]) -> list[tuple[str, Any, Any]]:
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


def test_the_docker_runtime_is_the_protocol_and_nothing_more() -> None:
    runtime = DockerRuntime("n1", "pods", client=NoDocker(), max_workers=1)
    try:
        assert isinstance(runtime, ContainerRuntime)
    finally:
        runtime.close()
    assert public_members(DockerRuntime) == protocol_members() - {"network"}
    for name in protocol_members() - {"network"}:
        assert parameters(getattr(DockerRuntime, name)) == parameters(
            getattr(ContainerRuntime, name)), name
        assert inspect.iscoroutinefunction(getattr(DockerRuntime, name)) == \
            inspect.iscoroutinefunction(getattr(ContainerRuntime, name)), name


@pytest.mark.parametrize("fake", [UnusedRuntime, FakeRuntime])
def test_the_fakes_are_the_protocol(fake: type) -> None:
    runtime = fake() if fake is UnusedRuntime else fake(FakeClock(wall=NOW))
    assert isinstance(runtime, ContainerRuntime)
    for name in protocol_members() - {"network"}:
        assert parameters(getattr(fake, name)) == parameters(getattr(ContainerRuntime, name)), \
            (fake.__name__, name)


def test_a_fake_fails_loudly_on_what_it_was_not_built_for() -> None:
    with pytest.raises(AssertionError, match=r"unexpected runtime call: UnusedRuntime\.exec"):
        asyncio.run(UnusedRuntime().exec("c1", ["true"]))
