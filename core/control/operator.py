"""The operator identity carried by every control message and manual order: user, host, pid, tool."""

from __future__ import annotations

import getpass
import os
import socket

from core.codec.messages import OperatorIdentity

USER_WIDTH, HOST_WIDTH, TOOL_WIDTH = 16, 32, 16  # the schema's char array widths


def current_operator(tool: str) -> OperatorIdentity:
    """Who is asking, from this process: login name, host name, pid and the tool (e.g. "cli", "tui")."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        user = f"uid{os.getuid()}"
    return OperatorIdentity(
        user=_ascii(user, USER_WIDTH),
        host=_ascii(socket.gethostname(), HOST_WIDTH),
        pid=os.getpid(),
        tool=_ascii(tool, TOOL_WIDTH),
    )


def describe(op: OperatorIdentity) -> str:
    return f"{op.user}@{op.host} pid {op.pid} ({op.tool})"


def _ascii(text: str, width: int) -> str:
    return text.encode("ascii", "replace").decode("ascii")[:width]
