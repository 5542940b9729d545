"""Put the locally built images into the lab's registry, so nodes pull them as kubelets do.

The host's engine pushes to the registry's port published on 127.0.0.1 (Docker
treats loopback registries as insecure by default, so no engine setting is
needed). Inside the lab the registry is every node's mirror, which is why an
image keeps its plain name (`schooner/web-example:1`) in manifests.
"""

from __future__ import annotations

import subprocess
import time

import httpx

# Images the examples and the agent (its pod sandbox) use; those not built are skipped.
LAB_IMAGES = ("schooner/busybox:latest", "schooner/web-example:1", "schooner/web-example:2",
              "schooner/postgres:15", "schooner/flask-postgres:1")


class ImageError(Exception):
    """An image could not be pushed; the message says which and why."""


def local_images(refs: tuple[str, ...] = LAB_IMAGES) -> list[str]:
    present = []
    for ref in refs:
        probe = subprocess.run(["docker", "image", "inspect", "--format", "{{.Id}}", ref],
                               capture_output=True, check=False)
        if probe.returncode == 0:
            present.append(ref)
    return present


def wait_for_registry(port: int, timeout: float = 30.0) -> None:
    url = f"http://127.0.0.1:{port}/v2/"
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError as exc:
            last = str(exc)
        time.sleep(0.2)
    raise ImageError(f"the lab registry at {url} did not answer within {timeout:.0f}s ({last})")


def push(refs: list[str], port: int) -> list[str]:
    """Tag each image for the registry, push it, drop the extra tag; returns what was pushed."""
    pushed = []
    for ref in refs:
        target = f"127.0.0.1:{port}/{ref}"
        subprocess.run(["docker", "tag", ref, target], check=True, capture_output=True)
        try:
            proc = subprocess.run(["docker", "push", target], capture_output=True, text=True,
                                  check=False)
            if proc.returncode != 0:
                raise ImageError(f"docker push {target} failed: {proc.stderr.strip()[-300:]}")
        finally:
            subprocess.run(["docker", "rmi", target], capture_output=True, check=False)
        pushed.append(ref)
    return pushed
