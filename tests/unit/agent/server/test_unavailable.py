"""The kubelet's words for a container that has not started yet."""

from __future__ import annotations

import pytest

from agent.server.unavailable import Unavailable, waiting_to_start


def pod(reason: str | None) -> dict[str, object]:
    state = {"waiting": {"reason": reason}} if reason else {}
    return {"metadata": {"name": "web"},
            "status": {"containerStatuses": [{"name": "other", "state": {}},
                                             {"name": "main", "state": state}]}}


@pytest.mark.parametrize(("reason", "said"), [
    ("ErrImagePull", ": image can't be pulled"),
    ("ImagePullBackOff", ": trying and failing to pull image"),
    ("ContainerCreating", ": ContainerCreating"),
    (None, ""),
])
def test_waiting_reasons_as_the_kubelet_words_them(reason: str | None, said: str) -> None:
    assert waiting_to_start(pod(reason), "main") == Unavailable(
        f'container "main" in pod "web" is waiting to start{said}', 400)


def test_a_pod_without_status_yet() -> None:
    assert waiting_to_start({"metadata": {"name": "web"}}, "main").message == (
        'container "main" in pod "web" is waiting to start')
