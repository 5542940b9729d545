"""The protobuf encoder writes Kubernetes' bytes: kubectl's captures, lists, Status, frames."""

from __future__ import annotations

import base64
import copy
from typing import Annotated, Any

import pytest

from apimachinery.models.meta import K8sModel
from apimachinery.models.schema import field
from apiserver import protobuf
from apiserver.protobuf.codec import MAGIC, unwrap, wrap
from apiserver.protobuf.wireformat import iter_fields, len_field, varint_field
from tests.unit.apiserver import validation_objects as objects
from tests.unit.apiserver.protobuf.recorder import COMMANDS, GOLDEN
from tests.unit.apiserver.protobuf.roundtrip import assert_round_trip


def _fields(buf: bytes) -> list[tuple[int, int | bytes]]:
    return [(number, value) for number, _, value in iter_fields(buf)]


def _field(buf: bytes, number: int) -> int | bytes:
    (value,) = [v for n, v in _fields(buf) if n == number]
    return value


# -- kubectl's own bytes --------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_decoding_then_encoding_a_kubectl_capture_gives_its_bytes_back(name: str) -> None:
    """client-go (gogo-protobuf) wrote these; the encoder must write the same bytes."""
    body = (GOLDEN / f"{name}.pb").read_bytes()
    assert protobuf.encode(protobuf.decode(body)) == body


def test_a_capture_reencoded_from_its_json_form_needs_no_protobuf_detail() -> None:
    """The deployment as kubectl would have sent it in JSON encodes to kubectl's protobuf:
    every zero Go writes comes from the schema, not from the decoded body."""
    as_json = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "creationTimestamp": None,
                     "labels": {"app": "web"}},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"creationTimestamp": None, "labels": {"app": "web"}},
                              "spec": {"containers": [{
                                  "name": "nginx", "image": "nginx:1.25",
                                  "ports": [{"containerPort": 80}], "resources": {}}]}},
                 "strategy": {}},
        "status": {}}
    assert protobuf.encode(as_json) == (GOLDEN / "deployment.pb").read_bytes()
    del as_json["status"], as_json["spec"]["strategy"]  # value structs: written anyway
    del as_json["spec"]["template"]["spec"]["containers"][0]["resources"]
    assert protobuf.encode(as_json) == (GOLDEN / "deployment.pb").read_bytes()


def test_go_writes_value_scalars_even_when_zero() -> None:
    raw = unwrap(protobuf.encode({"apiVersion": "v1", "kind": "ConfigMap",
                                  "metadata": {"name": "c"}}))[2]
    meta = _field(raw, 1)
    assert isinstance(meta, bytes)
    # name, generateName, namespace, selfLink, uid, resourceVersion, generation,
    # creationTimestamp (empty: the zero Time): value fields all, in number order
    assert _fields(meta) == [(1, b"c"), (2, b""), (3, b""), (4, b""), (5, b""), (6, b""),
                             (7, 0), (8, b"")]


def test_pointer_fields_are_left_out_when_unset_and_written_when_zero() -> None:
    def spec(**fields: Any) -> bytes:
        obj = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
               "spec": {"selector": {"matchLabels": {"a": "b"}}, **fields}}
        value = _field(unwrap(protobuf.encode(obj))[2], 2)
        assert isinstance(value, bytes)
        return value

    assert 1 not in dict(_fields(spec()))  # replicas: *int32
    assert dict(_fields(spec(replicas=0)))[1] == 0
    assert dict(_fields(spec()))[5] == 0  # minReadySeconds: int32, written as 0
    assert dict(_fields(spec()))[7] == 0  # paused: bool, written as false


def test_times_carry_seconds_and_zero_nanos_as_go_does() -> None:
    obj = {"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": "c", "creationTimestamp": "1970-01-01T00:00:00Z"}}
    meta = _field(unwrap(protobuf.encode(obj))[2], 1)
    assert isinstance(meta, bytes)
    assert _field(meta, 8) == varint_field(1, 0) + varint_field(2, 0)  # not the zero Time
    obj["metadata"]["creationTimestamp"] = "2025-03-04T05:06:07.5Z"  # Time keeps seconds
    meta = _field(unwrap(protobuf.encode(obj))[2], 1)
    assert isinstance(meta, bytes)
    assert _field(meta, 8) == varint_field(1, 1741064767) + varint_field(2, 0)
    obj["metadata"]["creationTimestamp"] = "0001-01-01T00:00:00Z"  # Go's zero Time
    meta = _field(unwrap(protobuf.encode(obj))[2], 1)
    assert isinstance(meta, bytes)
    assert _field(meta, 8) == b""


def test_times_before_1970_are_negative_seconds() -> None:
    obj = {"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": "c", "creationTimestamp": "1969-12-31T23:59:59Z"}}
    assert protobuf.decode(protobuf.encode(obj))["metadata"]["creationTimestamp"] == \
        "1969-12-31T23:59:59Z"


def test_micro_time_nanos_are_whole_microseconds() -> None:
    obj = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
           "metadata": {"name": "l"}, "spec": {"renewTime": "2025-01-02T03:04:05.123456Z"}}
    spec = _field(unwrap(protobuf.encode(obj))[2], 2)
    assert isinstance(spec, bytes)
    assert _field(spec, 4) == varint_field(1, 1735787045) + varint_field(2, 123456000)


@pytest.mark.parametrize(("target", "wire"), [
    (8080, varint_field(1, 0) + varint_field(2, 8080) + len_field(3, b"")),
    ("http", varint_field(1, 1) + varint_field(2, 0) + len_field(3, b"http")),
])
def test_int_or_string_writes_all_three_fields(target: int | str, wire: bytes) -> None:
    obj = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
           "spec": {"ports": [{"port": 80, "targetPort": target}]}}
    spec = _field(unwrap(protobuf.encode(obj))[2], 2)
    assert isinstance(spec, bytes)
    port = _field(spec, 1)
    assert isinstance(port, bytes)
    assert _field(port, 4) == wire


@pytest.mark.parametrize(("given", "written"), [
    ("250m", b"250m"), (2, b"2"), (1.5, b"1.5"), (0.25, b"0.25")])
def test_quantities_are_strings(given: str | float, written: bytes) -> None:
    obj = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n"},
           "status": {"capacity": {"cpu": given}}}
    status = _field(unwrap(protobuf.encode(obj))[2], 3)
    assert isinstance(status, bytes)
    entry = _field(status, 1)
    assert entry == len_field(1, b"cpu") + len_field(2, len_field(1, written))


def test_map_entries_are_sorted_by_key_bytes() -> None:
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
           "data": {"b": "2", "a": "1", "B": "0", "\u00e9": "3"}}
    raw = unwrap(protobuf.encode(obj))[2]
    keys = [_field(v, 1) for n, v in _fields(raw) if n == 2 and isinstance(v, bytes)]
    assert keys == [b"B", b"a", b"b", "\u00e9".encode()]


def test_null_map_values_are_go_zeros() -> None:
    obj = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
           "data": {"k": None}, "stringData": {"s": None}}
    raw = unwrap(protobuf.encode(obj))[2]
    assert dict(_fields(raw))[2] == len_field(1, b"k")  # a nil []byte: no value field
    assert dict(_fields(raw))[4] == len_field(1, b"s") + len_field(2, b"")


def test_secret_data_is_raw_bytes_and_bad_base64_is_unencodable() -> None:
    obj = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
           "data": {"k": base64.b64encode(b"\x00\xff").decode()}}
    assert len_field(2, b"\x00\xff") in protobuf.encode(obj)
    obj["data"] = {"k": "not base64!"}
    with pytest.raises(protobuf.Unencodable, match="data"):
        protobuf.encode(obj)


# -- every kind, and what cannot be written -------------------------------------------

def _objects() -> list[dict[str, Any]]:
    from tests.unit.apiserver.protobuf.test_protobuf_codec import ROUND_TRIP

    return [build() for build in ROUND_TRIP.values()]


def test_every_kind_round_trips_and_reencodes_to_the_same_bytes() -> None:
    for obj in _objects():
        assert_round_trip(obj)


@pytest.mark.parametrize(("path", "value"), [
    (("spec", "securityContext"), {"runAsUser": 1000, "runAsNonRoot": False}),
    (("spec", "containers", 0, "securityContext"), {"privileged": False,
                                                    "capabilities": {"drop": ["ALL"]}}),
    (("spec", "topologySpreadConstraints"), [{"maxSkew": 1, "topologyKey": "zone",
                                              "whenUnsatisfiable": "DoNotSchedule"}]),
    (("spec", "affinity"), {"podAntiAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": [{"topologyKey": "zone"}]}}),
])
def test_fields_typed_last_round_trip(path: tuple[Any, ...], value: Any) -> None:
    """Once untyped (a 406), these are now written as Kubernetes writes them."""
    obj = copy.deepcopy(objects.pod())
    spec = obj["spec"]
    spec["volumes"] = [v for v in spec["volumes"] if "projected" not in v]  # not served
    target = obj
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    assert_round_trip(obj)


class _Loose(K8sModel):
    anything: Annotated[dict[str, Any] | None, field("Untyped.", protobuf=1)] = None


class _Holder(K8sModel):
    inner: Annotated[list[_Loose] | None, field("Items.", protobuf=1)] = None


def test_untyped_fields_holding_data_are_unencodable_naming_the_field() -> None:
    """No served kind has one now; a model that did could not be written in protobuf."""
    holder = protobuf.schema.message(_Holder)
    assert protobuf.encode_message({"inner": [{"anything": {}}]}, holder) == \
        len_field(1, len_field(1, b""))
    with pytest.raises(protobuf.Unencodable) as caught:
        protobuf.encode_message({"inner": [{}, {"anything": {"a": 1}}]}, holder)
    assert caught.value.path == "inner[1].anything"
    assert "inner[1].anything" in str(caught.value)


def test_empty_security_contexts_are_written_as_empty_messages() -> None:
    obj = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
           "spec": {"securityContext": {}, "containers": [{"name": "c", "image": "i"}]}}
    assert_round_trip(obj)


def test_kinds_without_a_protobuf_form_are_unsupported() -> None:
    with pytest.raises(protobuf.Unsupported, match="Table"):
        protobuf.encode({"apiVersion": "meta.k8s.io/v1", "kind": "Table", "rows": []})
    with pytest.raises(protobuf.Unsupported, match="WidgetList"):
        protobuf.encode({"apiVersion": "v1", "kind": "WidgetList", "items": []})


def test_objects_not_of_the_stored_shape_are_unencodable_not_a_crash() -> None:
    with pytest.raises(protobuf.Unencodable):
        protobuf.encode({"apiVersion": "v1", "kind": "ConfigMap", "metadata": "oops"})


# -- lists, Status, watch frames ------------------------------------------------------

def test_a_list_is_list_meta_and_items() -> None:
    pods = [objects.pod(), objects.pod()]
    for pod in pods:
        pod["spec"]["volumes"] = [v for v in pod["spec"]["volumes"] if "projected" not in v]
    listing = {"apiVersion": "v1", "kind": "PodList",
               "metadata": {"resourceVersion": "42", "continue": "tok",
                            "remainingItemCount": 0},
               "items": pods}
    body = protobuf.encode(listing)
    api_version, kind, raw = unwrap(body)
    assert (api_version, kind) == ("v1", "PodList")
    meta = _field(raw, 1)
    assert meta == len_field(1, b"") + len_field(2, b"42") + len_field(3, b"tok") \
        + varint_field(4, 0)
    items = [v for n, v in _fields(raw) if n == 2]
    assert items == [unwrap(protobuf.encode(p))[2] for p in pods]
    decoded = protobuf.decode(body)
    assert decoded["metadata"] == listing["metadata"]
    assert [i["metadata"]["name"] for i in decoded["items"]] == ["web", "web"]


def test_an_empty_list_has_only_its_metadata() -> None:
    body = protobuf.encode({"apiVersion": "apps/v1", "kind": "DeploymentList",
                            "metadata": {"resourceVersion": "7"}, "items": []})
    assert unwrap(body)[2] == len_field(1, len_field(1, b"") + len_field(2, b"7")
                                        + len_field(3, b""))


def test_a_status_as_kubernetes_writes_it() -> None:
    from apimachinery import errors

    not_found = errors.NotFound('configmaps "c" not found').to_status()
    body = protobuf.encode(not_found)
    assert body.startswith(MAGIC)
    api_version, kind, raw = unwrap(body)
    assert (api_version, kind) == ("v1", "Status")
    assert _fields(raw) == [
        (1, len_field(1, b"") + len_field(2, b"") + len_field(3, b"")),  # ListMeta
        (2, b"Failure"), (3, b'configmaps "c" not found'), (4, b"NotFound"), (6, 404)]
    assert protobuf.decode(body) == not_found


def test_a_status_with_details_and_causes() -> None:
    status = {"apiVersion": "v1", "kind": "Status", "metadata": {}, "status": "Failure",
              "message": "bad", "reason": "Invalid", "code": 422,
              "details": {"name": "c", "kind": "ConfigMap", "causes": [
                  {"reason": "FieldValueInvalid", "message": "no", "field": "data"}]}}
    raw = unwrap(protobuf.encode(status))[2]
    details = _field(raw, 5)
    assert details == (len_field(1, b"c") + len_field(2, b"") + len_field(3, b"ConfigMap")
                       + len_field(4, len_field(1, b"FieldValueInvalid") + len_field(2, b"no")
                                   + len_field(3, b"data"))
                       + varint_field(5, 0) + len_field(6, b""))
    decoded = protobuf.decode(protobuf.encode(status))
    assert decoded["details"]["causes"] == status["details"]["causes"]  # type: ignore[index]
    assert decoded["code"] == 422


def test_a_status_in_any_group_version() -> None:
    status = {"apiVersion": "apps/v1", "kind": "Status", "status": "Success", "code": 200}
    assert unwrap(protobuf.encode(status))[:2] == ("apps/v1", "Status")


def test_a_watch_frame_is_a_length_then_a_bare_watch_event() -> None:
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
           "data": {"a": "1"}}
    frame = protobuf.frame("MODIFIED", obj)
    size = int.from_bytes(frame[:4], "big")
    assert size == len(frame) - 4
    event = frame[4:]
    assert not event.startswith(MAGIC)
    assert _field(event, 1) == b"MODIFIED"
    raw_extension = _field(event, 2)
    assert isinstance(raw_extension, bytes)
    assert _field(raw_extension, 1) == protobuf.encode(obj)


def test_wrap_writes_the_envelope_as_go_does() -> None:
    assert wrap("v1", "ConfigMap", b"\x0a\x00") == (
        MAGIC + len_field(1, len_field(1, b"v1") + len_field(2, b"ConfigMap"))
        + len_field(2, b"\x0a\x00") + len_field(3, b"") + len_field(4, b""))


def test_watch_encoder_ends_at_an_object_it_cannot_carry() -> None:
    """A batch [ok, unencodable, ok]: a frame, an ERROR frame with a 406, then nothing.
    (Every stored object is encodable now; a Secret whose data is not base64, which
    validation keeps out of storage, stands in for one that is not.)"""
    from apiserver.kinds import registry
    from apiserver.watch import _ProtobufEncoder

    secrets = registry().by_kind("v1", "Secret").resource
    encoder = _ProtobufEncoder(secrets)

    def secret(name: str, data: str) -> dict[str, Any]:
        return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name},
                "data": {"k": data}}

    batch = [("ADDED", secret("a", "YQ=="), 5, None),
             ("ADDED", secret("b", "not base64!"), 6, None),
             ("ADDED", secret("c", "YQ=="), 7, None), ("BOOKMARK", {}, 8, None)]
    out = b"".join(encoder.encode(item) for item in batch)  # type: ignore[arg-type]
    frames = []
    while out:
        size = int.from_bytes(out[:4], "big")
        frames.append(out[4:4 + size])
        out = out[4 + size:]
    assert [_field(f, 1) for f in frames] == [b"ADDED", b"ERROR"]
    assert encoder.failed
    raw_extension = _field(frames[1], 2)
    assert isinstance(raw_extension, bytes)
    raw = _field(raw_extension, 1)
    assert isinstance(raw, bytes)
    status = protobuf.decode(raw)
    assert status["code"] == 406 and "data" in status["message"]


# -- Scale, the kind of the scale subresource ---------------------------------------------

def test_scale_round_trips_and_keeps_replicas_zero() -> None:
    """autoscaling/v1 Scale is served by `{workload}/scale` only; its replicas are value
    int32s, so `replicas: 0` is on the wire and read back as 0 ("zero"), not dropped."""
    from apiserver.kinds.apps.scale import to_scale

    deployment = {"apiVersion": "apps/v1", "kind": "Deployment",
                  "metadata": {"name": "d", "namespace": "n", "resourceVersion": "5"},
                  "spec": {"replicas": 0, "selector": {"matchLabels": {"app": "d"}}}}
    scale = to_scale(deployment)
    body = protobuf.encode(scale)
    spec = dict(_fields(dict(_fields(unwrap(body)[2]))[2]))  # type: ignore[arg-type]
    assert spec == {1: 0}
    assert assert_round_trip(scale) == {**scale, "metadata": {**scale["metadata"],
                                                               "creationTimestamp": None}}
