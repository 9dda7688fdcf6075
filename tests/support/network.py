"""A transport guard: any connection a test's code tries to open beyond this machine fails the test.

Providers are faked at their HTTP boundary by the simulator on a loopback port; a request that heads
for a real address (a provider's default base URL left in place, a DNS name) is refused on the spot
and named at teardown, even if the code under test swallowed the error."""
from __future__ import annotations

import ipaddress
import socket

import pytest

LOCAL_NAMES = {"localhost", "localhost.localdomain", ""}


class LeftTheMachine(OSError):
    """Raised in place of a connection to a non-loopback address."""


def _is_local(host) -> bool:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if host is None or str(host).lower() in LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False  # a name to resolve: resolving it would already ask the network


class NetworkGuard:
    def __init__(self):
        self.attempts: list[str] = []

    def check(self, host, port=None) -> None:
        if not _is_local(host):
            self.attempts.append(f"{host}:{port}")
            raise LeftTheMachine(f"a test tried to reach {host}:{port}, beyond this machine")

    def install(self, monkeypatch) -> None:
        real_connect, real_connect_ex, real_getaddrinfo = socket.socket.connect, socket.socket.connect_ex, \
            socket.getaddrinfo
        guard = self

        def connect(sock, address):
            if sock.family in (socket.AF_INET, socket.AF_INET6):
                guard.check(*address[:2])
            return real_connect(sock, address)

        def connect_ex(sock, address):
            if sock.family in (socket.AF_INET, socket.AF_INET6):
                guard.check(*address[:2])
            return real_connect_ex(sock, address)

        def getaddrinfo(host, port, *args, **kwargs):
            guard.check(host, port)
            return real_getaddrinfo(host, port, *args, **kwargs)

        monkeypatch.setattr(socket.socket, "connect", connect)
        monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture
def no_network(monkeypatch):
    """Refuse every connection and name lookup beyond loopback; fail the test if any was tried."""
    guard = NetworkGuard()
    guard.install(monkeypatch)
    yield guard
    assert not guard.attempts, f"requests tried to leave the machine: {guard.attempts}"
