"""gunicorn's access log with the caller's address: behind nginx every request comes from 127.0.0.1,
so `%(h)s` alone would name nginx for every webhook. When (and only when) the peer is one of our
proxies, gunicorn's `forwarded_allow_ips` (set from TIKABOT_TRUSTED_PROXIES, gunicorn_conf.py),
`%(h)s` is the address that proxy saw, read from X-Forwarded-For as C-DAC's source check reads it
(core/proxies.py). From any other peer the header is ignored and the peer is logged, so a caller
cannot write someone else's address into the log."""
from __future__ import annotations

from gunicorn.glogging import Logger

from tikabot.core.proxies import client_address


class AccessLog(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        peer = environ.get("REMOTE_ADDR")
        client = client_address(peer, environ.get("HTTP_X_FORWARDED_FOR"), self.cfg.forwarded_allow_ips)
        atoms["h"] = client or peer or "-"
        return atoms
