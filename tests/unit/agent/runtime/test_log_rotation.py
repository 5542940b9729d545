"""Log rotation's runtime side (Docker's log options, a follow without repeated lines), and
the image GC's view of Docker's df."""

from __future__ import annotations

from collections.abc import Iterator

from agent.runtime.container import LogRotation
from agent.runtime.docker_host import docker_log_config, image_record
from agent.runtime.logfollow import DedupedStream, FollowDeduper, timestamp_ns


def test_docker_log_options_from_the_rotation() -> None:
    assert docker_log_config(LogRotation()) == {
        "Type": "json-file", "Config": {"max-size": "10485760", "max-file": "5"}}
    assert docker_log_config(LogRotation(16384, 3))["Config"] == {"max-size": "16384",
                                                                  "max-file": "3"}


def test_timestamps_with_trimmed_fractions() -> None:
    base = timestamp_ns(b"2026-12-07T02:40:27Z")
    assert timestamp_ns(b"2026-12-07T02:40:27.7Z") == base + 700_000_000
    assert timestamp_ns(b"2026-12-07T02:40:27.000000001Z") == base + 1
    assert timestamp_ns(b"2026-12-07T02:40:27.70512Z") < timestamp_ns(b"2026-12-07T02:40:27.7052Z")
    assert timestamp_ns(b"line") == -1


def test_repeated_messages_after_a_rotation_are_dropped() -> None:
    dedupe = FollowDeduper(keep_timestamps=False)
    frames = [b"2026-12-07T02:40:27.1Z a\n", b"2026-12-07T02:40:27.2Z b\n",
              b"2026-12-07T02:40:27.2Z c\n",  # same instant, another line: kept
              b"2026-12-07T02:40:27.1Z a\n", b"2026-12-07T02:40:27.2Z b\n",  # re-read
              b"2026-12-07T02:40:27.2Z c\n", b"2026-12-07T02:40:27.3Z d\n"]
    assert [dedupe.accept(f) for f in frames] == [b"a\n", b"b\n", b"c\n", None, None, None,
                                                  b"d\n"]
    stamped = FollowDeduper(keep_timestamps=True)
    assert stamped.accept(frames[0]) == frames[0]


def test_the_deduped_stream_closes_the_sdk_stream() -> None:
    class SDKStream:
        closed = False

        def __iter__(self) -> Iterator[bytes]:
            yield b"2026-12-07T02:40:27.1Z a\n"
            yield b"2026-12-07T02:40:27.1Z a\n"

        def close(self) -> None:
            self.closed = True
    sdk = SDKStream()
    stream = DedupedStream(sdk, keep_timestamps=False)
    assert list(stream) == [b"a\n"]
    stream.close()
    assert sdk.closed


def test_an_image_from_a_df_row_is_sized_by_what_it_alone_holds() -> None:
    row = {"Id": "sha256:x", "RepoTags": ["x:1", "<none>:<none>"], "Size": 5000,
           "SharedSize": 4200, "Created": 1700000000, "Labels": {"k": "v"}, "Containers": 0}
    image = image_record(row)
    assert (image.id, image.tags, image.size, image.labels) == ("sha256:x", ("x:1",), 800,
                                                                (("k", "v"),))
    assert image_record({**row, "SharedSize": -1, "Labels": None}).size == 5000
