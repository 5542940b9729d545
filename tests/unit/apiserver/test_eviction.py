"""The pod eviction subresource: which Evictions are accepted, the DeleteOptions they carry."""

from __future__ import annotations

import pytest

from apimachinery import errors
from apiserver.kinds.core.pod.eviction import delete_options_for, success


def eviction(name: str = "web-1", **options: object) -> dict[str, object]:
    return {"apiVersion": "policy/v1", "kind": "Eviction",
            "metadata": {"name": name, "namespace": "default"}, "deleteOptions": options}


def test_an_eviction_carries_its_delete_options() -> None:
    options, dry_run = delete_options_for("web-1", eviction(
        gracePeriodSeconds=0, preconditions={"uid": "u", "resourceVersion": "7"}))
    assert (options.grace_period_seconds, options.precondition_uid,
            options.precondition_resource_version, dry_run) == (0, "u", "7", False)
    options, dry_run = delete_options_for("web-1", {"metadata": {"name": "web-1"}})
    assert (options.grace_period_seconds, dry_run) == (None, False)
    assert delete_options_for("web-1", eviction(dryRun=["All"]))[1] is True
    v1beta1 = {**eviction(), "apiVersion": "policy/v1beta1"}
    assert delete_options_for("web-1", v1beta1)[1] is False


@pytest.mark.parametrize(("body", "message"), [
    (eviction("other"), "name in URL does not match name in Eviction object"),
    ({**eviction(), "kind": "Pod"}, "not a Eviction object: Pod"),
    ({**eviction(), "apiVersion": "v1"}, "unsupported Eviction version"),
    (eviction(dryRun=["Some"]), "deleteOptions.dryRun: unsupported value"),
    ({**eviction(), "deleteOptions": []}, "deleteOptions: must be an object"),
])
def test_bad_evictions_are_refused(body: dict[str, object], message: str) -> None:
    with pytest.raises(errors.BadRequest, match=message):
        delete_options_for("web-1", body)


def test_success_is_a_v1_status() -> None:
    assert success() == {"kind": "Status", "apiVersion": "v1", "metadata": {},
                         "status": "Success", "code": 201}
