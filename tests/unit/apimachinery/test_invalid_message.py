"""errors.Invalid's message is Kubernetes' NewInvalid: what kubectl's create generators print
(`error: failed to create deployment: Deployment.apps "web" is invalid: ...`)."""

from __future__ import annotations

from apimachinery import errors
from apimachinery.errors import FieldError


def test_one_error_is_the_message_and_the_kind_is_group_qualified() -> None:
    err = errors.Invalid("Deployment", "web", [FieldError("spec.replicas", "Required value")],
                         group="apps")
    assert err.message == 'Deployment.apps "web" is invalid: spec.replicas: Required value'
    assert err.to_status()["details"]["kind"] == "Deployment"  # kubectl's `The Deployment ...`


def test_several_errors_are_bracketed_and_not_repeated() -> None:
    err = errors.Invalid("Secret", "s", [FieldError("data[username]", "Required value"),
                                         FieldError("data[password]", "Required value"),
                                         FieldError("data[username]", "Required value")])
    assert err.message == ('Secret "s" is invalid: [data[username]: Required value, '
                           "data[password]: Required value]")
    assert len(err.to_status()["details"]["causes"]) == 3
