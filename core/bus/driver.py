"""The media driver of a desk instance, run as its own process.

    uv run python -m core.bus.driver --instance NAME [--config PATH]

It owns /dev/shm/aerodesk-<instance> (mode 0700): it refuses to start while a live driver owns the
directory (never wiping it), removes a stale directory left by a killed driver, checks that /dev/shm
has room, then runs until SIGTERM/SIGINT and removes the directory on the way out. It writes only log
lines, to stderr. Exit codes: 0 clean stop, 1 refused or failed, 2 usage.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import signal
import sys
import threading
import time
from pathlib import Path

import pyaeron

from core.bus.config import BusConfig, load_bus_config
from core.bus.errors import (
    BusError,
    DriverAlreadyRunning,
    DriverStartError,
    InsufficientSharedMemory,
    mib,
)
from core.bus.instance import AERON_DIR_ENTRIES, DriverProbe, instance_dir, probe_driver, resolve_instance
from core.config import ConfigError

log = logging.getLogger("aerodesk.driver")

DIR_MODE = 0o700
_POLL_S = 0.1


def prepare_driver_dir(
    instance: str, config: BusConfig, *, wait_stale: bool = True, stop: threading.Event | None = None
) -> Path:
    """Make the instance directory ready for a new driver, or refuse. Returns the directory.

    - a live driver owns it: DriverAlreadyRunning, nothing touched;
    - the driver recorded in cnc.dat is dead but its heartbeat is younger than driver_timeout_ms (it was
      killed moments ago): wait until the heartbeat is stale (or refuse with wait_stale=False);
    - stale: remove it, after checking it holds only what a media driver writes.
    """
    dir = instance_dir(instance)
    timeout_ms = config.driver.driver_timeout_ms
    probe = probe_driver(dir, timeout_ms)
    if probe.recently_dead:
        probe = _wait_for_stale(instance, probe, timeout_ms, wait_stale, stop or threading.Event())
    if probe.active:
        raise DriverAlreadyRunning(instance, dir, probe.pid)
    if probe.stale:
        _remove_stale(dir, probe)
    check_free_space(dir.parent, config.shm_needed())
    return dir


def _wait_for_stale(
    instance: str, probe: DriverProbe, timeout_ms: int, wait: bool, stop: threading.Event
) -> DriverProbe:
    message = (
        f"the previous media driver of desk {instance} (pid {probe.pid}) exited without cleaning up "
        f"less than {timeout_ms / 1000:g} s ago; its heartbeat in {probe.dir}/cnc.dat is still fresh"
    )
    if not wait:
        raise DriverStartError(f"{message}; retry in {timeout_ms / 1000:g} s")
    log.warning("%s; waiting up to %g s for it to go stale", message, timeout_ms / 1000)
    deadline = time.monotonic() + timeout_ms / 1000 + 2.0
    while time.monotonic() < deadline:
        if stop.wait(_POLL_S):
            raise DriverStartError(
                f"stopped while waiting for the previous driver of desk {instance} to go stale"
            )
        probe = probe_driver(probe.dir, timeout_ms)
        if not probe.active:
            return probe
    # Still beating although the recorded pid is gone here: a driver in another pid namespace.
    return probe


def _remove_stale(dir: Path, probe: DriverProbe) -> None:
    unexpected = sorted(set(os.listdir(dir)) - AERON_DIR_ENTRIES)
    if unexpected:
        raise DriverStartError(
            f"{dir} exists but does not look like a media driver directory "
            f"(it holds {', '.join(unexpected)}); remove it yourself if it is not needed"
        )
    who = f" left by media driver pid {probe.pid}" if probe.pid else ""
    log.warning("removing stale driver directory %s%s (no driver heartbeat)", dir, who)
    shutil.rmtree(dir)


def check_free_space(where: Path, needed: int) -> int:
    """Raise InsufficientSharedMemory unless `where` has `needed` bytes free; returns the free bytes."""
    st = os.statvfs(where)
    free = st.f_bavail * st.f_frsize
    if free < needed:
        raise InsufficientSharedMemory(where, needed, free)
    return free


def start_media_driver(dir: Path, config: BusConfig) -> pyaeron.MediaDriver:
    """Start the C media driver in this process on `dir` (prepared by prepare_driver_dir)."""
    os.environ.update(config.driver.environment())  # read by the C driver at context init
    os.umask(0o077)  # directory 0700, files 0600: the desk belongs to this user
    d = config.driver
    try:
        driver = pyaeron.MediaDriver(
            dir=str(dir),
            threading=d.threading,
            dir_delete_on_start=False,  # never wipe a live driver's directory
            dir_delete_on_shutdown=True,
            dir_warn_if_exists=False,  # it would print to stdout
            ipc_term_buffer_length=d.default_term_length,
            term_buffer_length=d.default_term_length,
        )
    except pyaeron.AeronError as e:
        raise DriverStartError(f"media driver failed to start on {dir}: {e}".strip()) from e
    os.chmod(dir, DIR_MODE)
    return driver


def run_driver(
    instance: str,
    config: BusConfig,
    stop: threading.Event,
    *,
    wait_stale: bool = True,
) -> None:
    """Prepare the directory, run the driver until `stop` is set, close it (removing the directory)."""
    dir = prepare_driver_dir(instance, config, wait_stale=wait_stale, stop=stop)
    driver = start_media_driver(dir, config)
    log.info(
        "media driver for desk %s running: pid %d, dir %s (CnC %s), %s threading, driver timeout %d ms",
        instance,
        os.getpid(),
        dir,
        mib(config.driver.cnc_file_length()),
        config.driver.threading,
        config.driver.driver_timeout_ms,
    )
    try:
        while not stop.wait(1.0):
            pass
    finally:
        try:
            driver.close()
        except pyaeron.AeronError as e:  # e.g. its own directory clean-up failed: finish it below
            log.warning("media driver close reported: %s", str(e).strip().splitlines()[-1])
        if dir.exists():
            shutil.rmtree(dir, ignore_errors=True)
        if dir.exists():
            log.error("media driver for desk %s stopped but could not remove %s", instance, dir)
        else:
            log.info("media driver for desk %s stopped; removed %s", instance, dir)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.bus.driver", description=__doc__.split("\n\n")[0])
    parser.add_argument("--instance", help="desk instance (default: env AERODESK_INSTANCE, else 'default')")
    parser.add_argument("--config", type=Path, help="channels.toml (default: env AERODESK_CHANNELS_CONFIG)")
    parser.add_argument(
        "--no-wait-stale",
        action="store_true",
        help="refuse at once, instead of waiting, when the previous driver was killed moments ago",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO,
        format="%(asctime)s %(levelname)s driver[%(process)d] %(message)s",
    )
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        log.info("received %s: stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        instance = resolve_instance(args.instance)
        config = load_bus_config(args.config)
        run_driver(instance, config, stop, wait_stale=not args.no_wait_stale)
    except (BusError, ConfigError, OSError) as e:
        log.error("%s", e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
