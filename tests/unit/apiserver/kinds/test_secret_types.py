"""The keys each Secret type needs (Kubernetes' ValidateSecret), which `kubectl create
secret generic --type=...` and `create secret docker-registry --from-file` lean on."""

from __future__ import annotations

import base64

import pytest

from apiserver.kinds.core.secret import validate_secret


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _problems(secret_type: str, data: dict[str, str]) -> list[str]:
    obj = {"metadata": {"name": "s"}, "type": secret_type, "data": data}
    return [str(e) for e in validate_secret(obj, None)]


@pytest.mark.parametrize(("secret_type", "data"), [
    ("kubernetes.io/basic-auth", {"username": _b64("u")}),
    ("kubernetes.io/basic-auth", {"password": ""}),
    ("kubernetes.io/ssh-auth", {"ssh-privatekey": _b64("key")}),
    ("kubernetes.io/tls", {"tls.crt": "", "tls.key": ""}),
    ("kubernetes.io/dockerconfigjson", {".dockerconfigjson": _b64('{"auths": {}}')}),
    ("kubernetes.io/dockercfg", {".dockercfg": _b64("{}")}),
    ("Opaque", {}),
])
def test_complete_typed_secrets_are_valid(secret_type: str, data: dict[str, str]) -> None:
    assert _problems(secret_type, data) == []


def test_basic_auth_needs_a_username_or_a_password() -> None:
    assert _problems("kubernetes.io/basic-auth", {"user": _b64("u")}) == [
        "data[username]: Required value", "data[password]: Required value"]


def test_ssh_auth_needs_a_private_key_that_is_not_empty() -> None:
    assert _problems("kubernetes.io/ssh-auth", {"ssh-privatekey": ""}) == [
        "data[ssh-privatekey]: Required value"]


@pytest.mark.parametrize(("secret_type", "key"), [
    ("kubernetes.io/dockerconfigjson", ".dockerconfigjson"),
    ("kubernetes.io/dockercfg", ".dockercfg"),
])
def test_docker_configs_must_be_json_objects_and_are_never_echoed(secret_type: str,
                                                                  key: str) -> None:
    (bad_json,) = _problems(secret_type, {key: _b64("hunter2")})
    assert bad_json.startswith(f'data[{key}]: Invalid value: "<secret contents redacted>": '
                               "invalid JSON: ")
    assert "hunter2" not in bad_json
    assert _problems(secret_type, {key: _b64("[1]")}) == [
        f'data[{key}]: Invalid value: "<secret contents redacted>": must be a JSON object, '
        "not an array"]
