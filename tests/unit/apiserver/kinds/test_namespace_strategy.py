"""The Namespace strategy on bodies the API fuzzer sent."""

from __future__ import annotations

import pytest

from apiserver.kinds.core.namespace import NamespaceStrategy


@pytest.mark.parametrize("spec", [None, {}, {"finalizers": None}])
def test_create_gives_the_kubernetes_finalizer_whatever_empty_spec_came(spec: object) -> None:
    """`"spec": null` was an AttributeError on `setdefault`: a 500."""
    ns = {"metadata": {"name": "n"}, "spec": spec}
    NamespaceStrategy().prepare_for_create(ns)
    assert ns["spec"]["finalizers"] == ["kubernetes"]
    assert ns["status"] == {"phase": "Active"}


def test_create_leaves_a_spec_of_the_wrong_type_to_validation() -> None:
    ns = {"metadata": {"name": "n"}, "spec": [1]}
    NamespaceStrategy().prepare_for_create(ns)
    assert ns["spec"] == [1]
