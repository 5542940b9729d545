"""A Binding's labels and annotations are validated as ObjectMeta's, so a Binding can
never write into its pod an annotation that makes every later update of the pod fail."""

from __future__ import annotations

from typing import Any

import pytest

from apimachinery import errors
from apiserver.kinds.core.pod.subresources import bind


def _pod(**annotations: str) -> dict[str, Any]:
    return {"metadata": {"name": "p", "annotations": dict(annotations)},
            "spec": {"containers": [{"name": "c", "image": "i"}]}}


def _binding(**meta: Any) -> dict[str, Any]:
    return {"metadata": {"name": "p", **meta}, "target": {"name": "n1"}}


def test_a_valid_binding_adds_its_annotations() -> None:
    bound = bind(_pod(a="1"), _binding(annotations={"example.com/why": "spread"},
                                       labels={"ok": "yes"}))
    assert bound["spec"]["nodeName"] == "n1"
    assert bound["metadata"]["annotations"] == {"a": "1", "example.com/why": "spread"}
    assert "ok" not in (bound["metadata"].get("labels") or {})  # Kubernetes copies none


@pytest.mark.parametrize(("meta", "field"), [
    ({"annotations": {"bad key!": "x"}}, "metadata.annotations"),
    ({"annotations": {"/x": "x"}}, "metadata.annotations"),
    ({"annotations": {"a": "x" * 300_000}}, "metadata.annotations"),
    ({"labels": {"bad key!": "x"}}, "metadata.labels"),
    ({"labels": {"a": "not a label value!"}}, "metadata.labels"),
])
def test_a_binding_with_invalid_meta_is_422_naming_the_field(meta: dict[str, Any],
                                                             field: str) -> None:
    with pytest.raises(errors.Invalid) as raised:
        bind(_pod(), _binding(**meta))
    assert raised.value.message.startswith('Binding "p" is invalid: ' + field), \
        raised.value.message


def test_annotations_the_pod_cannot_hold_together_are_422_on_the_pod() -> None:
    """Each map is under 256 KiB, the pod's merged one is not: its update would fail."""
    with pytest.raises(errors.Invalid) as raised:
        bind(_pod(a="x" * 200_000), _binding(annotations={"b": "y" * 200_000}))
    assert raised.value.message.startswith('Pod "p" is invalid: metadata.annotations: Too long')


@pytest.mark.parametrize("meta", [{"annotations": {"a": 1}}, {"labels": {"a": None}}])
def test_values_that_are_no_strings_are_400(meta: dict[str, Any]) -> None:
    with pytest.raises(errors.BadRequest, match="values must be strings"):
        bind(_pod(), _binding(**meta))
