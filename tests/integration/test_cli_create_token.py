"""`schooner create token SA` against a real apiserver: the token printed alone, usable as
the service account; bad durations and unknown accounts are one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx

from cli.cluster.processes import Apiserver

SCHOONER = str(Path(sys.executable).parent / "schooner")
REVIEW = "/apis/authentication.k8s.io/v1/selfsubjectreviews"


def _run(apiserver: Apiserver, tmp_path: Path, ns: str, *args: str
         ) -> subprocess.CompletedProcess[str]:
    config = apiserver.kubeconfig(tmp_path / "kubeconfig")
    return subprocess.run([SCHOONER, "--kubeconfig", str(config), "-n", ns, *args],
                          capture_output=True, text=True, timeout=60)


def _one_error(proc: subprocess.CompletedProcess[str], text: str) -> None:
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and text in lines[0], proc.stderr


def test_create_token_prints_a_working_token(apiserver: Apiserver, tmp_path: Path,
                                             namespace: str) -> None:
    with apiserver.client() as client:
        client.create("serviceaccounts", {"metadata": {"name": "ci"}}, namespace=namespace)
    proc = _run(apiserver, tmp_path, namespace, "create", "token", "ci", "--duration", "1h",
                "--audience", "https://kubernetes.default.svc.cluster.local")
    assert proc.returncode == 0, proc.stderr
    token = proc.stdout.strip()
    assert proc.stdout == token + "\n" and token.count(".") == 2
    with httpx.Client(base_url=apiserver.url, verify=apiserver._ssl(), timeout=10,
                      headers={"Authorization": f"Bearer {token}"}) as http:
        review = http.post(REVIEW, json={"apiVersion": "authentication.k8s.io/v1",
                                         "kind": "SelfSubjectReview"}).json()
    assert review["status"]["userInfo"]["username"] == f"system:serviceaccount:{namespace}:ci"
    _one_error(_run(apiserver, tmp_path, namespace, "create", "token", "ci", "--duration",
                    "5m"), "less than 10 minutes")
    _one_error(_run(apiserver, tmp_path, namespace, "create", "token", "ci", "--duration",
                    "soon"), "--duration")
    _one_error(_run(apiserver, tmp_path, namespace, "create", "token", "nobody"),
               "not found")
