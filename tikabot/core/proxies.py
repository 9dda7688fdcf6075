"""Who called: the peer of the connection, or, when that peer is one of our reverse proxies, the
address the proxy saw, from X-Forwarded-For.

One notion of "our proxies" (TIKABOT_TRUSTED_PROXIES, config.py) serves every reader: the web
process's access log (gunicorn's forwarded_allow_ips, tikabot/stack/access_log.py), C-DAC's pull
source check (handlers/cdac.py) and NIC's report source check (handlers/nic.py). From any other
peer the header is nobody's word and is ignored.
"""
from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Iterable

ANY = "*"  # gunicorn's forwarded_allow_ips spelling of "every peer"


@lru_cache(maxsize=256)
def _network(text: str):
    return ipaddress.ip_network(text.strip(), strict=False)


def address(text: str | None):
    """An IP address, or None for anything else (a name, garbage, an empty header)."""
    try:
        return ipaddress.ip_address((text or "").strip())
    except ValueError:
        return None


def in_networks(text: str | None, networks: Iterable[str]) -> bool:
    ip = address(text)
    if ip is None:
        return False
    for network in networks:
        if network == ANY:
            return True
        try:
            if ip in _network(network):
                return True
        except ValueError:
            continue
    return False


def client_address(peer: str | None, forwarded_for: str | None, trusted: Iterable[str]) -> str | None:
    """The address a request came from. X-Forwarded-For is read only when the peer is one of our
    proxies, right to left, skipping our proxies: the first other hop is the client (what the
    outermost proxy of ours saw), whether a proxy sets the header (nginx `$remote_addr`) or appends
    to it (`$proxy_add_x_forwarded_for`). A hop that is no IP address gives None: nobody is named.
    Without the header, the proxy itself is calling."""
    trusted = tuple(trusted)
    if not in_networks(peer, trusted):
        return peer
    hops = [h.strip() for h in (forwarded_for or "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not in_networks(hop, trusted):
            return str(address(hop)) if address(hop) is not None else None
    return peer
