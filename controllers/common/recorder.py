"""The one EventRecorder call controllers make, so unit tests can hand in a list.

`recorder_for` gives a controller its real EventRecorder unless a test passed one;
`about` stamps kind and apiVersion on the object an event is about, because an
informer's items may lack them and the Event's involvedObject needs both for
`kubectl describe` to find it.
"""

from __future__ import annotations

from typing import Protocol

from apimachinery.clock import Clock
from apimachinery.events import EventRecorder
from apimachinery.meta import Object

from ..base import ControllerClient


class Recorder(Protocol):
    def record(self, obj: Object, reason: str, message: str, *, container: str | None = None,
               warning: bool = False) -> None: ...


def recorder_for(client: ControllerClient, component: str, clock: Clock,
                 given: Recorder | None) -> Recorder:
    if given is not None:
        return given
    return EventRecorder(client, component, clock)  # type: ignore[arg-type]


def about(obj: Object, kind: str, api_version: str) -> Object:
    return {**obj, "kind": kind, "apiVersion": api_version}
