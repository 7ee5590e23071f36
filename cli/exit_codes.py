"""Documented exit codes of every aerodesk command."""

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILURE = 1  # failed or refused
    USAGE = 2  # bad arguments (Typer/Click use 2 as well)
    NOT_RUNNING = 3  # the desk (or the daemon asked about) is not running
    UNHEALTHY = 4  # running, but a daemon is missing heartbeats or reports errors
