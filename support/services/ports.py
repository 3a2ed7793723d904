"""Ports on 127.0.0.1: which are free, which answer, and which process listens on one."""

from __future__ import annotations

import socket

import psutil

HOST = "127.0.0.1"  # every course service binds this address only


def port_is_free(port: int, host: str = HOST) -> bool:
    """True when nothing listens on host:port and we could bind it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = HOST) -> int:
    """A port that the OS says is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def pick_port(preferred: int) -> int:
    """`preferred` when it is free, else any free port."""
    return preferred if port_is_free(preferred) else free_port()


def port_answers(port: int, host: str = HOST, timeout: float = 0.2) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def listens(pid: int, port: int) -> bool:
    """True when process `pid` has a listening TCP socket on `port`."""
    try:
        return any(
            c.status == psutil.CONN_LISTEN and c.laddr.port == port for c in psutil.Process(pid).net_connections("tcp")
        )
    except psutil.Error:
        return False
