"""kubectl exec and cp over the WebSocket channel protocol (`v5.channel.k8s.io`), and the
official Python client's `stream()` (`v4`/`v5`), against one pod on the real Docker
engine: output on the right streams, exit codes, stdin to its end, a terminal with
resize (through a pseudo-terminal: the suite has no terminal of its own), tar-based
copies both ways, and who may exec."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cli.cluster.processes import wait_for
from tests.compat.conftest import KUBECTL, Cluster, Kubectl
from tests.compat.readkit import container, make, pod, wait_pod_ready

pytestmark = [pytest.mark.integration, pytest.mark.e2e]
ROOT = Path(__file__).resolve().parents[2]
IDLE = "trap 'exit 0' TERM; while true; do sleep 1; done"


@pytest.fixture
def box(cluster: Cluster, namespace: str) -> str:
    """A running busybox pod (it has sh and tar)."""
    make(cluster, namespace, "pods", pod("box"))
    wait_pod_ready(cluster, namespace, "box")
    return "box"


@pytest.mark.compat("kubectl exec", "kubectl exec -i")
def test_exec_streams_and_exit_codes(kubectl: Kubectl, box: str) -> None:
    done = kubectl("exec", box, "--", "sh", "-c", "echo out; echo err >&2; exit 3", ok=False)
    assert (done.code, done.stdout) == (3, "out\n")
    assert done.stderr == "err\ncommand terminated with exit code 3\n"  # kubectl's own line
    assert kubectl("exec", box, "--", "true").code == 0
    piped = kubectl("exec", "-i", box, "--", "sh", "-c", "wc -l; echo end", stdin="a\nb\nc\n")
    assert piped.stdout.split() == ["3", "end"]
    # more input than one message, to its end
    big = "".join(f"line {i}\n" for i in range(20000))
    assert kubectl("exec", "-i", box, "--", "wc", "-c", stdin=big).stdout.strip() == \
        str(len(big))


def test_sessions_are_audited_and_counted(kubectl: Kubectl, cluster: Cluster, namespace: str,
                                          box: str) -> None:
    """An exec is in the audit log as Kubernetes writes a connect (ResponseStarted, then
    ResponseComplete, code 101, the default policy's Metadata level) and in
    `apiserver_request_total{verb="connect"}`."""
    assert kubectl("exec", box, "--", "true").code == 0
    log = cluster.kubeconfig.parent / "logs" / "audit.log"

    def stages() -> list[tuple[str, int]]:
        found = []
        for line in log.read_bytes().splitlines():
            event = json.loads(line)
            ref = event.get("objectRef") or {}
            if (ref.get("subresource"), ref.get("namespace"), ref.get("name")) == (
                    "exec", namespace, box):
                found.append((event["stage"], event["responseStatus"]["code"]))
        return found

    wait_for(lambda: ("ResponseComplete", 101) in stages(), 10, "the exec's audit event")
    assert stages()[:2] == [("ResponseStarted", 101), ("ResponseComplete", 101)]
    text = cluster.client.request("GET", "/metrics").text
    assert re.search(r'apiserver_request_total\{code="101",resource="pods",'
                     r'subresource="exec",verb="connect"\} [1-9]', text), text[:2000]


@pytest.mark.compat("kubectl exec (no such command)")
def test_exec_of_a_missing_command(kubectl: Kubectl, box: str) -> None:
    missing = kubectl("exec", box, "--", "no-such-tool", ok=False)
    assert missing.code == 1
    assert "error executing command in container" in missing.stderr
    assert 'exec: "no-such-tool": executable file not found in $PATH' in missing.stderr
    assert missing.stdout == ""


def _winsize(fd: int, rows: int, cols: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


class Terminal:
    """kubectl run on a pseudo-terminal of its own (its controlling terminal)."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        pid, fd = pty.fork()
        if pid == 0:  # the child: kubectl, on the terminal
            with contextlib.suppress(BaseException):
                os.execve(argv[0], argv, env)
            os._exit(127)
        self.pid, self.fd, self.seen = pid, fd, b""

    def write(self, text: str) -> None:
        os.write(self.fd, text.encode())

    def expect(self, needle: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while needle.encode() not in self.seen:
            left = deadline - time.monotonic()
            assert left > 0, f"{needle!r} never came; the terminal showed {self.seen!r}"
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:
                    chunk = b""
                assert chunk, f"the terminal closed before {needle!r}: {self.seen!r}"
                self.seen += chunk
        return self.seen.decode(errors="replace")

    def resize(self, rows: int, cols: int) -> None:
        _winsize(self.fd, rows, cols)  # the kernel sends kubectl SIGWINCH

    def wait(self, timeout: float = 30) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                ready, _, _ = select.select([self.fd], [], [], 0.1)
                if ready:
                    self.seen += os.read(self.fd, 65536)
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return os.waitstatus_to_exitcode(status)
        raise AssertionError(f"kubectl did not end; the terminal showed {self.seen!r}")

    def kill(self) -> None:
        with contextlib.suppress(ChildProcessError, ProcessLookupError):
            os.kill(self.pid, 9)
            os.waitpid(self.pid, 0)
        with contextlib.suppress(OSError):
            os.close(self.fd)


@contextlib.contextmanager
def terminal(cluster: Cluster, namespace: str, home: Path, *args: str) -> Iterator[Terminal]:
    home.mkdir(exist_ok=True)
    term = Terminal([str(KUBECTL), "--kubeconfig", str(cluster.kubeconfig), "-n", namespace,
                     *args], {"HOME": str(home), "PATH": "/usr/bin:/bin", "TERM": "xterm"})
    try:
        yield term
    finally:
        term.kill()


@pytest.mark.compat("kubectl exec -it")
def test_exec_with_a_terminal_and_resize(cluster: Cluster, namespace: str, box: str,
                                         tmp_path: Path) -> None:
    with terminal(cluster, namespace, tmp_path / "home", "exec", "-it", box, "--",
                  "sh") as term:
        _winsize(term.fd, 30, 100)
        term.expect("# ")
        term.write("stty size; tty\n")
        assert "30 100" in term.expect("/dev/pts/")
        term.resize(41, 123)
        time.sleep(0.5)  # the resize message races the next command's read of the size
        term.write("stty size\n")
        term.expect("41 123")
        term.write("exit 7\n")
        assert term.wait() == 7


@pytest.mark.compat("kubectl cp")
def test_cp_both_ways(kubectl: Kubectl, box: str, tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("alpha\n")
    (src / "sub" / "b.bin").write_bytes(bytes(range(256)) * 100)
    kubectl("cp", str(src / "a.txt"), f"{box}:/tmp/a.txt")
    assert kubectl("exec", box, "--", "cat", "/tmp/a.txt").stdout == "alpha\n"
    kubectl("cp", str(src), f"{box}:/tmp/dir")
    back = tmp_path / "back"
    kubectl("cp", f"{box}:/tmp/dir", str(back))
    assert (back / "a.txt").read_text() == "alpha\n"
    assert (back / "sub" / "b.bin").read_bytes() == bytes(range(256)) * 100
    kubectl("cp", f"{box}:/tmp/a.txt", str(tmp_path / "one.txt"))
    assert (tmp_path / "one.txt").read_text() == "alpha\n"


@pytest.mark.compat("kubectl cp (no tar)")
def test_cp_into_a_container_without_tar(kubectl: Kubectl, cluster: Cluster, namespace: str,
                                         tmp_path: Path) -> None:
    make(cluster, namespace, "pods", pod("bare", None, container(
        "main", ["sh", "-c", f"rm /bin/tar; touch /ready; {IDLE}"])))
    wait_pod_ready(cluster, namespace, "bare")
    wait_for(lambda: kubectl("exec", "bare", "--", "ls", "/ready", ok=False).code == 0, 30,
             "tar removed")
    (tmp_path / "f").write_text("x")
    for args in (("cp", str(tmp_path / "f"), "bare:/tmp/f"),
                 ("cp", "bare:/etc/passwd", str(tmp_path / "g"))):
        refused = kubectl(*args, ok=False)
        assert refused.code == 1, refused.out
        assert 'exec: "tar": executable file not found in $PATH' in refused.stderr, refused.out


def _client_exec(official: Any, namespace: str, name: str, command: list[str],
                 stdin: str | None = None) -> tuple[str, str, int | None]:
    """(stdout, stderr, exit code) of one exec through kubernetes.stream, closed after."""
    from kubernetes import client
    from kubernetes.stream import stream

    resp = stream(client.CoreV1Api(official).connect_get_namespaced_pod_exec, name,
                  namespace, command=command, stderr=True, stdin=stdin is not None,
                  stdout=True, tty=False, _preload_content=False)
    try:
        if stdin is not None:
            resp.write_stdin(stdin)
        stdout, stderr = "", ""
        deadline = time.monotonic() + 30
        while resp.is_open() and time.monotonic() < deadline:
            resp.update(timeout=1)
            stdout += resp.read_stdout() if resp.peek_stdout() else ""
            stderr += resp.read_stderr() if resp.peek_stderr() else ""
        stdout += resp.read_stdout() if resp.peek_stdout() else ""
        stderr += resp.read_stderr() if resp.peek_stderr() else ""
        return stdout, stderr, resp.returncode
    finally:
        resp.close()
        resp.sock.shutdown()  # websocket-client leaves the socket open once the server closed


@pytest.mark.compat("stream(connect_get_namespaced_pod_exec)")
def test_python_client_stream(official: Any, namespace: str, box: str) -> None:
    assert _client_exec(official, namespace, box, ["sh", "-c", "echo hi; echo oops >&2"]) \
        == ("hi\n", "oops\n", 0)
    assert _client_exec(official, namespace, box,
                        ["sh", "-c", "read x; echo got-$x; echo bad >&2; exit 5"],
                        stdin="hello\n") == ("got-hello\n", "bad\n", 5)


@pytest.mark.compat("kubectl attach -it")
def test_attach_to_a_container_with_stdin_and_a_terminal(cluster: Cluster, namespace: str,
                                                         tmp_path: Path) -> None:
    shell = container("main", ["sh"])
    shell.update(stdin=True, tty=True)
    make(cluster, namespace, "pods", pod("tty", None, shell))
    wait_pod_ready(cluster, namespace, "tty")
    with terminal(cluster, namespace, tmp_path / "home", "attach", "-it", "tty") as term:
        _winsize(term.fd, 25, 90)
        term.expect("If you don't see a command prompt, try pressing enter.")
        # kubectl's attach sends the size one larger, then the size (to make the program
        # redraw), from a goroutine of its own beside stdin: let both land first
        time.sleep(0.5)
        term.write("echo hi-$((40+2)); stty size\n")
        term.expect("hi-42")
        term.expect("25 90")
        term.resize(33, 111)
        time.sleep(0.5)
        term.write("stty size\n")
        term.expect("33 111")
    # leaving detached: the container's shell goes on
    status = cluster.client.get("pods", "tty", namespace)["status"]["containerStatuses"][0]
    assert "running" in status["state"] and status["restartCount"] == 0


@pytest.mark.compat("kubectl attach -i")
def test_attach_pipes_stdin_once(kubectl: Kubectl, cluster: Cluster, namespace: str) -> None:
    reader = container("main", ["sh", "-c", "while read l; do echo got-$l; done; echo eof"])
    reader.update(stdin=True, stdinOnce=True)
    make(cluster, namespace, "pods", pod("reader", None, reader, restart="Never"))
    wait_pod_ready(cluster, namespace, "reader")
    out = kubectl("attach", "-i", "reader", stdin="a\nb\n")
    assert out.stdout.split() == ["got-a", "got-b", "eof"]  # stdin closed after the attach


SCHOONER = str(Path(sys.executable).parent / "schooner")


def _schooner(cluster: Cluster, namespace: str, *args: str, stdin: str | None = None
              ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SCHOONER, "--kubeconfig", str(cluster.kubeconfig), "-n", namespace,
                           *args], input=stdin, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_schooner_exec_streams_stdin_and_exit_codes(cluster: Cluster, namespace: str,
                                                    box: str) -> None:
    done = _schooner(cluster, namespace, "exec", "-i", box, "--", "sh", "-c",
                     "wc -l; echo err >&2; exit 3", stdin="a\nb\nc\n")
    assert (done.returncode, done.stdout.strip(), done.stderr) == (3, "3", "err\n")


def test_schooner_exec_with_a_terminal(cluster: Cluster, namespace: str, box: str) -> None:
    term = Terminal([SCHOONER, "--kubeconfig", str(cluster.kubeconfig), "-n", namespace,
                     "exec", "-it", box, "--", "sh"],
                    {**os.environ, "PYTHONPATH": str(ROOT), "TERM": "xterm"})
    try:
        _winsize(term.fd, 20, 70)
        term.expect("# ")
        term.write("stty size\n")
        term.expect("20 70")
        term.resize(44, 132)
        time.sleep(0.5)
        term.write("stty size\n")
        term.expect("44 132")
        term.write("exit 9\n")
        assert term.wait() == 9
    finally:
        term.kill()


def test_schooner_cp_both_ways(cluster: Cluster, namespace: str, box: str,
                               tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("alpha\n")
    (src / "sub" / "b.bin").write_bytes(bytes(range(256)) * 50)
    assert _schooner(cluster, namespace, "cp", str(src), f"{box}:/tmp/tree").returncode == 0
    back = tmp_path / "back"
    copied = _schooner(cluster, namespace, "cp", f"{box}:/tmp/tree", str(back))
    assert copied.returncode == 0, copied.stderr
    assert (back / "a.txt").read_text() == "alpha\n"
    assert (back / "sub" / "b.bin").read_bytes() == bytes(range(256)) * 50
