"""An unexpected exception is a 500 whose Status says nothing of it; the log says all."""

from __future__ import annotations

import logging

import pytest

from apiserver.app import INTERNAL_ERROR_MESSAGE, internal_error


def test_a_500_does_not_echo_the_exception(caplog: pytest.LogCaptureFixture) -> None:
    try:
        raise KeyError("secret-token-abc")
    except KeyError as exc:
        with caplog.at_level(logging.ERROR, logger="apiserver"):
            status = internal_error("/api/v1/pods", exc).to_status()
    assert (status["code"], status["reason"]) == (500, "InternalError")
    assert status["message"] == INTERNAL_ERROR_MESSAGE
    assert "secret-token-abc" not in str(status)
    logged = caplog.records[-1]
    assert "secret-token-abc" in logged.getMessage() and "path=/api/v1/pods" in logged.getMessage()
    assert logged.exc_info is not None  # the traceback is in the log
