"""The channel-pair port-forward framing and the `ports` query, as the kubelet reads it."""

from __future__ import annotations

import pytest

from apimachinery import portforward as pf


@pytest.mark.parametrize(("values", "ports"), [
    (["80"], [80]), (["80", "8080"], [80, 8080]), (["80,8080"], [80, 8080]),
    (["1", "65535"], [1, 65535]),
])
def test_ports_repeated_or_comma_separated(values: list[str], ports: list[int]) -> None:
    assert pf.parse_ports(values) == ports


@pytest.mark.parametrize("values", [[], ["0"], ["65536"], ["http"], ["80,"], ["-1"],
                                    [",".join(["80"] * (pf.MAX_PORTS + 1))]])
def test_bad_ports_are_refused(values: list[str]) -> None:
    with pytest.raises(pf.InvalidPorts):
        pf.parse_ports(values)


def test_channels_and_prefixes() -> None:
    assert [(pf.data_channel(i), pf.error_channel(i)) for i in range(3)] == [
        (0, 1), (2, 3), (4, 5)]
    assert pf.port_prefix(8080) == b"\x90\x1f"  # little-endian
