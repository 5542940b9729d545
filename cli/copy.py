"""`schooner cp`: files and directories to and from a container, as kubectl cp does it.

kubectl runs `tar` in the container through exec: into a pod, a tar of the local path
(named for the destination's last element) goes to `tar -xmf - -C <destination's
directory>` on stdin; out of one, `tar cf - -C <source's directory> <source's name>`
comes back on stdout and is unpacked under the local destination. So the image needs
tar, as in Kubernetes; without it, runc's "executable file not found" is the error.
Entries that would land outside the destination (absolute paths, `..`, links) are
refused, as kubectl refuses them.
"""

from __future__ import annotations

import io
import posixpath
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from apimachinery import wsstream

from . import streaming
from .commands import CommandError, NamespaceOpt, session_of

# (pod, command, stdin) -> the command's stdout
Runner = Callable[[str, list[str], bytes | None], bytes]


def _remote(spec: str) -> tuple[str, str] | None:
    """(pod, path) of `POD:PATH`, or None for a local path."""
    pod, sep, path = spec.partition(":")
    if not sep or not pod or "/" in pod:
        return None
    return pod, path


def cp_cmd(ctx: typer.Context, src: Annotated[str, typer.Argument(help="SRC: PATH or POD:PATH")],
           dest: Annotated[str, typer.Argument(help="DEST: POD:PATH or PATH")],
           container: Annotated[str | None, typer.Option("-c", "--container")] = None,
           namespace: NamespaceOpt = None) -> None:
    """Copy files and directories to and from containers (kubectl cp; needs tar there)."""
    session = session_of(ctx)
    ns = session.namespace(namespace)
    source, target = _remote(src), _remote(dest)
    if (source is None) == (target is None):
        raise CommandError("one of src or dest must be a local file specification and the "
                           "other a remote one (POD:PATH)")

    def run(pod: str, command: list[str], stdin: bytes | None) -> bytes:
        query = [("command", c) for c in command] + [
            ("stdout", "true"), ("stderr", "true"), ("stdin", "true" if stdin is not None
                                                       else "false")]
        if container:
            query.append(("container", container))
        out = bytearray()
        conn = streaming.connect(session.client, f"/api/v1/namespaces/{ns}/pods/{pod}/exec",
                                 query)
        outcome = streaming.run(conn, stdin=stdin, out=lambda ch, data: out.extend(data)
                                if ch == wsstream.STDOUT else streaming.write_out(ch, data))
        if outcome.error:
            raise CommandError(outcome.error)
        if outcome.code:
            raise CommandError(f"command terminated with exit code {outcome.code}")
        return bytes(out)

    if target is not None:
        _to_pod(Path(src), target, run)
    else:
        assert source is not None
        _from_pod(source, Path(dest), run)


def _to_pod(local: Path, target: tuple[str, str], run: Runner) -> None:
    if not local.exists():
        raise CommandError(f"{local} doesn't exist in local filesystem")
    pod, path = target
    path = path or "."
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.add(str(local), arcname=posixpath.basename(path.rstrip("/")) or ".")
    directory = posixpath.dirname(path.rstrip("/")) or "."
    run(pod, ["tar", "-xmf", "-", "-C", directory], buffer.getvalue())


def _from_pod(source: tuple[str, str], local: Path, run: Runner) -> None:
    pod, path = source
    path = path.rstrip("/") or "/"
    name = posixpath.basename(path) or "."
    data = run(pod, ["tar", "cf", "-", "-C", posixpath.dirname(path) or "/", name], None)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r") as tar:
        for member in tar.getmembers():
            rest = posixpath.relpath(member.name, name) if member.name != name else "."
            if rest.startswith("..") or posixpath.isabs(rest) or member.issym() \
                    or member.islnk():
                typer.echo(f"warning: skipping {member.name}: it would leave {local}",
                           err=True)
                continue
            target = local if rest == "." else local / rest
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
            elif member.isfile():
                target.parent.mkdir(parents=True, exist_ok=True)
                extracted = tar.extractfile(member)
                target.write_bytes(extracted.read() if extracted else b"")
                target.chmod(member.mode & 0o777)


def register(app: typer.Typer) -> None:
    app.command("cp")(cp_cmd)
