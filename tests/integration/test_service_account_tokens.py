"""Service-account tokens on a real apiserver: TokenRequest, then the token as a credential
until its ServiceAccount (or bound Pod) is gone."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from apimachinery import errors
from apimachinery.client import Client
from cli.cluster.processes import Apiserver

pytestmark = pytest.mark.integration

REVIEW = "/apis/authentication.k8s.io/v1/selfsubjectreviews"
BODY = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}


@pytest.fixture
def ns(apiserver: Apiserver) -> Iterator[str]:
    name = f"sa-{uuid.uuid4().hex[:8]}"
    with apiserver.client() as client:
        client.create("namespaces", {"metadata": {"name": name}})
        yield name
        client.delete("namespaces", name)


def _token(http: httpx.Client, ns: str, name: str, **spec: object) -> httpx.Response:
    return http.post(f"/api/v1/namespaces/{ns}/serviceaccounts/{name}/token",
                     json={"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                           "spec": spec})


def _whoami(apiserver: Apiserver, token: str) -> httpx.Response:
    with apiserver.http(token=token) as http:
        return http.post(REVIEW, json=BODY)


def test_a_requested_token_is_the_account_until_the_account_is_deleted(
        apiserver: Apiserver, ns: str) -> None:
    with apiserver.client() as client, apiserver.http() as http:
        account = client.create("serviceaccounts", {"metadata": {"name": "ci"}}, namespace=ns)
        answer = _token(http, ns, "ci", expirationSeconds=600)
        assert answer.status_code == 201, answer.text
        request = answer.json()
        assert request["spec"]["expirationSeconds"] == 600
        assert request["status"]["expirationTimestamp"]
        token = request["status"]["token"]
        review = _whoami(apiserver, token)
        assert review.status_code == 201, review.text
        assert review.json()["status"]["userInfo"] == {
            "username": f"system:serviceaccount:{ns}:ci", "uid": account["metadata"]["uid"],
            "groups": ["system:serviceaccounts", f"system:serviceaccounts:{ns}",
                       "system:authenticated"]}
        client.delete("serviceaccounts", "ci", namespace=ns)
        assert _whoami(apiserver, token).status_code == 401
        # an account of the same name made again has another uid: the old token stays dead
        client.create("serviceaccounts", {"metadata": {"name": "ci"}}, namespace=ns)
        assert _whoami(apiserver, token).status_code == 401


def test_a_token_bound_to_a_pod_dies_with_the_pod(apiserver: Apiserver, ns: str) -> None:
    with apiserver.client() as client, apiserver.http() as http:
        client.create("serviceaccounts", {"metadata": {"name": "app"}}, namespace=ns)
        pod = client.create("pods", {"metadata": {"name": "p"}, "spec": {
            "containers": [{"name": "c", "image": "busybox"}]}}, namespace=ns)
        answer = _token(http, ns, "app", boundObjectRef={"kind": "Pod", "apiVersion": "v1",
                                                         "name": "p"})
        assert answer.status_code == 201, answer.text
        assert answer.json()["spec"]["boundObjectRef"]["uid"] == pod["metadata"]["uid"]
        token = answer.json()["status"]["token"]
        assert _whoami(apiserver, token).status_code == 201
        client.delete("pods", "p", namespace=ns, grace_period_seconds=0)
        with pytest.raises(errors.NotFound):
            client.get("pods", "p", namespace=ns)
        assert _whoami(apiserver, token).status_code == 401


def test_token_requests_are_checked_as_kubernetes_checks_them(apiserver: Apiserver,
                                                              ns: str) -> None:
    with apiserver.client() as client, apiserver.http() as http:
        client.create("serviceaccounts", {"metadata": {"name": "a"}}, namespace=ns)
        short = _token(http, ns, "a", expirationSeconds=599)
        assert short.status_code == 422
        assert short.json()["details"]["causes"][0]["field"] == "spec.expirationSeconds"
        assert "less than 10 minutes" in short.json()["message"]
        other = _token(http, ns, "a", boundObjectRef={"kind": "Secret", "name": "s"})
        assert other.status_code == 422
        assert other.json()["details"]["causes"][0]["field"] == "spec.boundObjectRef.kind"
        assert _token(http, ns, "missing").status_code == 404
        assert _token(http, ns, "a", boundObjectRef={"kind": "Pod", "name": "no"}
                      ).status_code == 404
        # another audience than the apiserver's: issued, but not a credential here
        foreign = _token(http, ns, "a", audiences=["vault"])
        assert foreign.status_code == 201
        assert foreign.json()["spec"]["audiences"] == ["vault"]
        assert _whoami(apiserver, foreign.json()["status"]["token"]).status_code == 401


def test_a_tampered_token_is_refused(apiserver: Apiserver, ns: str) -> None:
    with apiserver.client() as client, apiserver.http() as http:
        client.create("serviceaccounts", {"metadata": {"name": "a"}}, namespace=ns)
        token = _token(http, ns, "a").json()["status"]["token"]
    header, claims, signature = token.split(".")
    assert _whoami(apiserver, f"{header}.{claims}.{signature[:-4]}AAAA").status_code == 401
    assert _whoami(apiserver, "not.a.jwt").status_code == 401


def test_the_admin_client_still_works_beside_service_accounts(apiserver: Apiserver) -> None:
    with Client(apiserver.url, token=apiserver.token, ca_data=apiserver.ca_pem) as client:
        assert client.create("selfsubjectreviews", BODY)["status"]["userInfo"][
            "username"] == "admin"


TOKEN_REVIEW = "/apis/authentication.k8s.io/v1/tokenreviews"


def _review(http: httpx.Client, token: str, *audiences: str) -> dict[str, object]:
    spec: dict[str, object] = {"token": token}
    if audiences:
        spec["audiences"] = list(audiences)
    answer = http.post(TOKEN_REVIEW, json={"apiVersion": "authentication.k8s.io/v1",
                                           "kind": "TokenReview", "spec": spec})
    assert answer.status_code == 201, answer.text
    return answer.json()["status"]


def test_token_review_says_who_a_token_is(apiserver: Apiserver, ns: str) -> None:
    issuer = "https://kubernetes.default.svc.cluster.local"
    with apiserver.client() as client, apiserver.http() as http:
        client.create("serviceaccounts", {"metadata": {"name": "hook"}}, namespace=ns)
        token = _token(http, ns, "hook").json()["status"]["token"]
        vault = _token(http, ns, "hook", audiences=["vault"]).json()["status"]["token"]
        good = _review(http, token)
        assert good["authenticated"] is True and good["audiences"] == [issuer]
        assert good["user"]["username"] == f"system:serviceaccount:{ns}:hook"  # type: ignore[index]
        # a token for another audience is good for that audience only
        assert _review(http, vault, "vault")["audiences"] == ["vault"]
        assert "authenticated" not in _review(http, vault)
        # the admin's static token is good for the apiserver's own audiences only
        assert _review(http, apiserver.token)["authenticated"] is True
        assert "authenticated" not in _review(http, apiserver.token, "vault")
        bad = _review(http, "nonsense")
        assert "authenticated" not in bad and bad["error"]
        empty = http.post(TOKEN_REVIEW, json={"apiVersion": "authentication.k8s.io/v1",
                                              "kind": "TokenReview", "spec": {}})
        assert empty.status_code == 422
        assert empty.json()["details"]["causes"][0]["field"] == "spec.token"
