"""Helpers for the operations tests: free ports, subprocesses that are always stopped."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition: Callable[[], object], *, timeout: float, interval: float = 0.2):
    """Poll ``condition`` until it returns something truthy; that value, or None on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() >= deadline:
            return value or None
        time.sleep(interval)


def start(args: list[str], *, env: dict, log: Path) -> subprocess.Popen:
    """A subprocess in its own process group, writing stdout and stderr to ``log``."""
    handle = log.open("wb")
    try:
        return subprocess.Popen(
            args,
            cwd=ROOT,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    finally:
        handle.close()  # the child keeps its own copy


def stop(process: subprocess.Popen | None, *, timeout: float = 10) -> None:
    """SIGTERM the process group (a worker's children too), SIGKILL it if it lingers."""
    if process is None or process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout)
    except ProcessLookupError:
        pass


def tail(log: Path, lines: int = 80) -> str:
    if not log.exists():
        return f"({log} was never written)"
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
