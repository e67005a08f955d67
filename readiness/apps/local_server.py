"""Local web servers a person starts (the workshop's Voila, JupyterLab): port, process."""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Mapping

__all__ = ["free_port", "serve"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(argv: list[str], env: Mapping[str, str]) -> int:
    """Run a server in this process's place (POSIX) or as a child (elsewhere).

    Replacing the process means that stopping or killing the ``readiness`` command stops
    the server itself: no orphaned server keeps the port. The workshop's answers need no
    shutdown step (each is committed when given), nor do JupyterLab's saved notebooks.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    if os.name == "posix":
        os.execve(argv[0], argv, dict(env))  # does not return
    import subprocess

    return subprocess.call(argv, env=dict(env))
