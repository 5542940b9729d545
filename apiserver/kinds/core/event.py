"""Event (core/v1): what happened to an object, as components report it.

Events are written whole (no status subresource). The apiserver fills `count`
and the first/last timestamps when a recorder left them out, so `kubectl get
events` and `describe` never show `<unknown>` ages. Events expire `--event-ttl`
(default 1 h) after their last write, on etcd leases shared between Events
written close together (apiserver/leases.py).
"""

from __future__ import annotations

from collections.abc import Callable

from apimachinery.meta import Object, now_rfc3339
from apimachinery.models import Event
from apimachinery.printers import LAYOUTS
from apimachinery.resources import ResourceInfo
from apiserver.config import ServerConfig
from apiserver.defaulting import Obj, dict_at, set_default
from apiserver.kind import Kind, Strategy
from apiserver.validation.fields import Errs, as_dict, invalid, non_negative, not_supported

RESOURCE = ResourceInfo(
    "", "v1", "Event", "events", True, ("ev",),
    selectable_fields=("involvedObject.kind", "involvedObject.namespace",
                       "involvedObject.name", "involvedObject.uid",
                       "involvedObject.apiVersion", "involvedObject.resourceVersion",
                       "involvedObject.fieldPath", "reason", "type", "source"))


class EventStrategy(Strategy):
    has_status_subresource = False


def default_event(obj: Obj, now: Callable[[], str] = now_rfc3339) -> None:
    """`count: 1` and first/last timestamps for an Event created without them.

    The apiserver itself does not default these, but every recorder sets them,
    and `kubectl describe` shows `<unknown>` ages without them.
    """
    set_default(obj, "count", 1)
    if obj.get("firstTimestamp") is None:
        meta = dict_at(obj, "metadata") or {}
        obj["firstTimestamp"] = (obj.get("lastTimestamp") or obj.get("eventTime")
                                 or meta.get("creationTimestamp") or now())
    set_default(obj, "lastTimestamp", obj["firstTimestamp"])


def validate_event(obj: Object, old: Object | None) -> Errs:
    """legacyValidateEvent: the involved object's namespace matches the event's; type known."""
    errs: Errs = []
    involved = obj.get("involvedObject")
    namespace = as_dict(obj.get("metadata")).get("namespace") or ""
    if isinstance(involved, dict):
        involved_ns = involved.get("namespace") or ""
        ok = namespace in ("", "default") if not involved_ns else namespace == involved_ns
        if not ok:
            errs.append(invalid("involvedObject.namespace", involved_ns,
                                "does not match event.namespace"))
    event_type = obj.get("type")
    if isinstance(event_type, str) and event_type and event_type not in ("Normal", "Warning"):
        errs.append(not_supported("type", event_type, ("Normal", "Warning")))
    errs += non_negative("count", obj.get("count"))
    return errs


def event_ttl(config: ServerConfig) -> int:
    """`--event-ttl`: how long an Event is kept after its last write (Kubernetes: 1 h)."""
    return config.event_ttl


KIND = Kind(
    resource=RESOURCE,
    model=Event,
    strategy=EventStrategy(),
    default=default_event,
    validate=validate_event,
    table=LAYOUTS["Event"],
    ttl=event_ttl,
)
