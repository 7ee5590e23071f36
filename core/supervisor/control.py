"""The supervisor's control socket: a Unix stream socket at <runtime>/<instance>.sock (mode 0600).

One request per connection, one JSON line each way:

    {"cmd": "restart", "daemon": "md"}   -> {"ok": true, "message": "...", "pid": 123}
    {"cmd": "ping"}                      -> {"ok": true, "state": "running", "pid": 99}

A failed request answers {"ok": false, "error": "...", "code": N} with the exit code the CLI should
use (2 usage, e.g. an unknown daemon; 1 failure). The server never blocks the supervisor's loop for
long: it accepts without waiting, reads the request line with a short timeout, and may answer later
(a restart answers once the daemon sent its first heartbeat, or failed).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import time
from pathlib import Path
from typing import Any

log = logging.getLogger("aerodesk.supervisor")

MAX_REQUEST = 4096
READ_TIMEOUT_S = 0.5


class ControlError(RuntimeError):
    pass


class Pending:
    """An accepted request awaiting its answer."""

    def __init__(self, conn: socket.socket, request: dict[str, Any]) -> None:
        self.conn = conn
        self.request = request

    def reply(self, answer: dict[str, Any]) -> None:
        with contextlib.suppress(OSError):
            self.conn.sendall((json.dumps(answer) + "\n").encode())
        with contextlib.suppress(OSError):
            self.conn.close()


class ControlServer:
    def __init__(self, path: Path) -> None:
        self.path = path
        with contextlib.suppress(FileNotFoundError):
            path.unlink()  # a stale socket of a dead supervisor (the instance lock is ours)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)
        try:
            self.sock.bind(str(path))
        finally:
            os.umask(old)
        self.sock.listen(16)
        self.sock.setblocking(False)

    def accept(self) -> list[Pending]:
        """Requests that arrived since the last call (malformed ones are answered and dropped)."""
        out = []
        while True:
            try:
                conn, _ = self.sock.accept()
            except (BlockingIOError, InterruptedError):
                return out
            except OSError as e:
                log.warning("control socket: accept failed: %s", e)
                return out
            request = _read_request(conn)
            pending = Pending(conn, request or {})
            if request is None:
                pending.reply({"ok": False, "error": "malformed request", "code": 2})
                continue
            out.append(pending)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def _read_request(conn: socket.socket) -> dict[str, Any] | None:
    conn.settimeout(READ_TIMEOUT_S)
    data = b""
    try:
        while b"\n" not in data and len(data) < MAX_REQUEST:
            chunk = conn.recv(MAX_REQUEST)
            if not chunk:
                break
            data += chunk
        request = json.loads(data.split(b"\n", 1)[0])
    except (OSError, ValueError):
        return None
    conn.settimeout(None)
    return request if isinstance(request, dict) and isinstance(request.get("cmd"), str) else None


def request(path: Path, message: dict[str, Any], timeout_s: float) -> dict[str, Any]:
    """Send one request to a supervisor and wait for its answer. ControlError if nobody answers."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(5.0)
        try:
            sock.connect(str(path))
        except (FileNotFoundError, ConnectionRefusedError) as e:
            raise ControlError(f"no supervisor listens on {path}: {e.strerror}") from None
        sock.sendall((json.dumps(message) + "\n").encode())
        deadline = time.monotonic() + timeout_s
        data = b""
        while b"\n" not in data:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ControlError(f"the supervisor did not answer within {timeout_s:g} s")
            sock.settimeout(left)
            try:
                chunk = sock.recv(MAX_REQUEST)
            except TimeoutError:
                continue
            if not chunk:
                raise ControlError("the supervisor closed the connection without an answer")
            data += chunk
        answer = json.loads(data.split(b"\n", 1)[0])
    except OSError as e:
        raise ControlError(f"control socket {path}: {e}") from None
    except ValueError:
        raise ControlError("the supervisor sent an unreadable answer") from None
    finally:
        sock.close()
    if not isinstance(answer, dict):
        raise ControlError("the supervisor sent an unreadable answer")
    return answer
