"""Helpers for tests that start servers of their own on 127.0.0.1 (an SMTP sink, a Redis)."""

import socket
import time


def free_port() -> int:
    """A port nobody listens on now, so two runs of these tests on one machine never collide."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition, timeout=30) -> bool:
    """Whether ``condition()`` became true within ``timeout`` seconds (polled every 0.1 s)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False
