"""`schooner port-forward`'s port mappings and its Service port translation."""

from __future__ import annotations

import pytest

from cli.commands import CommandError
from cli.portforward import _target_port, parse_mapping


@pytest.mark.parametrize(("text", "pair"), [("8080:80", (8080, 80)), (":80", (0, 80)),
                                            ("80", (80, 80)), ("0:9000", (0, 9000))])
def test_mappings(text: str, pair: tuple[int, int]) -> None:
    assert parse_mapping(text) == pair


@pytest.mark.parametrize("text", ["a:80", "80:0", "70000:80", "8080:", ""])
def test_bad_mappings(text: str) -> None:
    with pytest.raises(CommandError):
        parse_mapping(text)


SERVICE = {"metadata": {"name": "web"}, "spec": {"ports": [
    {"port": 8088, "targetPort": "http"}, {"port": 81, "targetPort": 8081}, {"port": 82}]}}
POD = {"metadata": {"name": "web-1"}, "spec": {"containers": [
    {"name": "main", "ports": [{"name": "http", "containerPort": 80}]}]}}


def test_service_ports_become_the_pods() -> None:
    assert _target_port(SERVICE, POD, 8088) == 80
    assert _target_port(SERVICE, POD, 81) == 8081
    assert _target_port(SERVICE, POD, 82) == 82
    with pytest.raises(CommandError, match="does not have port 99"):
        _target_port(SERVICE, POD, 99)
