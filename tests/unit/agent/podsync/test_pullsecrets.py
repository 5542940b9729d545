"""imagePullSecrets: which credentials a pull uses, and that they reach docker-py's pull call."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any

from agent.podsync.backoff import Backoff
from agent.podsync.images import ImageManager
from agent.podsync.pod_sync import PodSyncer
from agent.podsync.pullsecrets import auth_for, entries, repository, secret_names
from agent.runtime.docker_runtime import DockerRuntime
from apimachinery.clock import FakeClock
from apimachinery.meta import Object
from tests.unit.agent.fakes import FakeClient, FakeRuntime
from tests.unit.agent.helpers import NOW, UID, make_pod


def b64(value: Any) -> str:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return base64.b64encode(raw).decode()


def dockerconfigjson(auths: dict[str, Any], name: str = "regcred") -> Object:
    return {"metadata": {"name": name}, "type": "kubernetes.io/dockerconfigjson",
            "data": {".dockerconfigjson": b64({"auths": auths})}}


def dockercfg(auths: dict[str, Any], name: str = "legacy") -> Object:
    return {"metadata": {"name": name}, "type": "kubernetes.io/dockercfg",
            "data": {".dockercfg": b64(auths)}}


def test_repository_follows_dockers_rules() -> None:
    assert repository("busybox") == ("docker.io", "library/busybox")
    assert repository("team/app:1.0") == ("docker.io", "team/app")
    assert repository("registry:5000/team/app:1.0") == ("registry:5000", "team/app")
    assert repository("localhost/app@sha256:ab") == ("localhost", "app")
    assert repository("index.docker.io/library/nginx") == ("docker.io", "library/nginx")


def test_the_longest_matching_key_wins_and_auth_is_decoded() -> None:
    secrets = [
        dockerconfigjson({"registry:5000": {"username": "all", "password": "p1"},
                          "https://registry:5000/team": {"auth": b64(b"team:p2")}}),
        dockercfg({"other.io": {"username": "o", "password": "p3"}}),
    ]
    assert auth_for("registry:5000/team/app:1", secrets) == {
        "username": "team", "password": "p2", "serveraddress": "https://registry:5000/team"}
    assert auth_for("registry:5000/elsewhere/app", secrets) == {
        "username": "all", "password": "p1", "serveraddress": "registry:5000"}
    assert auth_for("other.io/x", secrets)["username"] == "o"  # type: ignore[index]
    assert auth_for("busybox", secrets) is None
    hub = dockerconfigjson({"https://index.docker.io/v1/": {"username": "h", "password": "p"}})
    assert auth_for("busybox", [hub])["username"] == "h"  # type: ignore[index]


def test_other_types_and_malformed_data_give_nothing() -> None:
    assert entries({"type": "Opaque", "data": {".dockerconfigjson": b64({"auths": {}})}}) == {}
    assert entries({"type": "kubernetes.io/dockerconfigjson",
                    "data": {".dockerconfigjson": "not base64!"}}) == {}
    assert secret_names({"spec": {"imagePullSecrets": [{"name": "a"}, {"name": "a"},
                                                       {"name": "b"}]}}) == ["a", "b"]


class FakeImages:
    def __init__(self) -> None:
        self.pulls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    def pull(self, *args: Any, **kwargs: Any) -> None:
        self.pulls.append((args, kwargs))


class FakeAPI:
    def inspect_image(self, ref: str) -> Object:
        return {"Id": "sha256:pulled"}


class FakeDocker:
    def __init__(self) -> None:
        self.images, self.api = FakeImages(), FakeAPI()

    def close(self) -> None:
        pass


def test_the_credentials_reach_docker_pys_pull() -> None:
    docker = FakeDocker()
    runtime = DockerRuntime("n1", "pods", client=docker, max_workers=1)
    try:
        auth = {"username": "u", "password": "p", "serveraddress": "registry:5000"}
        assert asyncio.run(runtime.pull_image("registry:5000/app:1", auth)) == "sha256:pulled"
        asyncio.run(runtime.pull_image("registry:5000/app:1"))
    finally:
        runtime.close()
    assert docker.images.pulls == [(("registry:5000/app:1",), {"auth_config": auth}),
                                   (("registry:5000/app:1",), {})]


class Recorder:
    """Keeps (reason, message) of each event."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def record(self, pod: Object, reason: str, message: str, **_: Any) -> None:
        self.events.append((reason, message))

    def forget(self, uid: str) -> None:
        pass


def _syncer(tmp_path: Path, pod: Object, client: FakeClient,
            runtime: FakeRuntime, recorder: Recorder, clock: FakeClock) -> PodSyncer:
    return PodSyncer(
        client=client, runtime=runtime, recorder=recorder,  # type: ignore[arg-type]
        images=ImageManager(runtime, recorder, Backoff(clock), clock),  # type: ignore[arg-type]
        backoff=Backoff(clock), clock=clock, pod_by_uid=lambda uid: pod,
        node_ip="192.0.2.10", root_dir=tmp_path, sandbox_image="schooner/busybox:latest")


def test_a_pod_pulls_with_its_secret_and_warns_of_a_missing_one(tmp_path: Path) -> None:
    clock = FakeClock(wall=NOW)
    runtime = FakeRuntime(clock)
    pod = make_pod("app")
    pod["spec"]["containers"][0].update(image="registry:5000/app:1", imagePullPolicy="Always")
    pod["spec"]["imagePullSecrets"] = [{"name": "gone"}, {"name": "regcred"}]
    secret = dockerconfigjson({"registry:5000": {"username": "u", "password": "p"}})
    client = FakeClient({**secret, "kind": "Secret",
                         "metadata": {"name": "regcred", "namespace": "ns"}})
    recorder = Recorder()
    asyncio.run(_syncer(tmp_path, pod, client, runtime, recorder, clock).sync(UID))
    assert ("pull", "registry:5000/app:1", {"username": "u", "password": "p",
                                             "serveraddress": "registry:5000"}) in runtime.calls
    warnings = [e for e in recorder.events if e[0] == "FailedToRetrieveImagePullSecret"]
    assert warnings and warnings[0][1] == ("Unable to retrieve some image pull secrets (gone); "
                                           "attempting to pull the image may not succeed.")
