"""Docker sandboxes for the formgrader, which runs as the course's grader account.

The grader never holds the Docker socket: a Jupyter server that can reach Docker is root on
the host. So in docker mode root (coursehub's supervisor) listens on a Unix socket that only
the course's grader can open, and runs each notebook the formgrader sends in the standard
docker sandbox. Root decides the image, GPUs, datasets and every container flag; the grader
sends only the notebook, its regular files (never a path for root to read) and the limits.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import socket
import socketserver
import tempfile
import threading
from pathlib import Path, PurePosixPath

from . import admission, backends
from .backends import Limits

BROKER_ENV = "COURSEHUB_SANDBOX_BROKER"
MAX_REQUEST = 256 << 20
HEADER = 8


class BrokerError(Exception):
    """The request was refused or the broker did not answer."""


def _files(files_dir: str | None) -> list[list[str]]:
    out = []
    for entry in backends.iter_files(Path(files_dir) if files_dir else None):
        data = b"".join(admission.read_entry(entry))
        out.append([entry.rel, base64.b64encode(data).decode("ascii")])
    return out


def _send(conn: socket.socket, payload: dict) -> None:
    data = json.dumps(payload).encode("utf-8")
    conn.sendall(len(data).to_bytes(HEADER, "big") + data)


def _receive(conn: socket.socket) -> dict:
    head = _read_exactly(conn, HEADER)
    size = int.from_bytes(head, "big")
    if size > MAX_REQUEST:
        raise BrokerError(f"a message of {size} bytes (at most {MAX_REQUEST})")
    return json.loads(_read_exactly(conn, size))


def _read_exactly(conn: socket.socket, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = conn.recv(min(left, 1 << 20))
        if not chunk:
            raise BrokerError("the connection closed early")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def request(path: str, nb: dict, files_dir: str | None, limits: dict) -> dict:
    """Have root run ``nb`` in a docker sandbox; the run's record, as ``execute`` returns it."""
    try:
        with socket.socket(socket.AF_UNIX) as conn:
            conn.connect(path)
            _send(conn, {"nb": nb, "files": _files(files_dir), "limits": limits})
            answer = _receive(conn)
    except OSError as exc:
        raise BrokerError(f"the sandbox broker at {path} did not answer: {exc}") from None
    if "error" in answer:
        raise BrokerError(f"the sandbox broker refused: {answer['error']}")
    return answer["record"]


def _write_files(root: Path, files: list) -> None:
    """The submission's regular files under ``root``; a name that leaves it is refused."""
    for rel, data in files:
        parts = PurePosixPath(rel).parts
        if not parts or PurePosixPath(rel).is_absolute() or ".." in parts:
            raise BrokerError(f"file name {rel!r} is not inside the submission")
        target = root.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
        with os.fdopen(os.open(target, flags, 0o644), "wb") as out:
            out.write(base64.b64decode(data))


def handle(message: dict, run_sandbox) -> dict:
    """Run one request through root's ``run_sandbox(nb, files_dir, limits)``."""
    limits = Limits(**message["limits"]).__dict__  # unknown keys refused
    with tempfile.TemporaryDirectory(prefix="coursehub-broker-") as tmp:
        _write_files(Path(tmp), message.get("files", []))
        return {"record": run_sandbox(message["nb"], tmp, limits)}


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        try:
            answer = handle(_receive(self.request), self.server.run_sandbox)
        except (BrokerError, ValueError, TypeError, KeyError, OSError) as exc:
            answer = {"error": str(exc) or type(exc).__name__}
        with contextlib.suppress(OSError):  # the formgrader went away: nothing to tell
            _send(self.request, answer)


class Broker(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True

    def __init__(self, path: str, gid: int, run_sandbox):
        """Listen on ``path``, which only root and group ``gid`` may open.

        ``run_sandbox(nb, files_dir, limits)`` is root's: it picks the image, GPUs and
        datasets and returns the sandbox's record.
        """
        Path(path).parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        Path(path).unlink(missing_ok=True)
        self.run_sandbox = run_sandbox
        super().__init__(path, _Handler)
        os.chown(path, 0, gid)
        os.chmod(path, 0o660)

    def start(self) -> Broker:
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self
