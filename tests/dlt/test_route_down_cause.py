"""The coordinators' alert that an SMS route is down names the error that took it down, and that
name is a DLT variable: it must fit 30 characters for every provider tikabot speaks, or the alert
itself would be refused on the domestic route it is sent by."""
from __future__ import annotations

import importlib
import pkgutil

import tikabot.handlers
from tikabot.core import sending
from tikabot.core.sending import ACCOUNT, UNKNOWN, ErrorKind
from tikabot.dlt.pattern import MAX_VAR_CHARS
from tikabot.i18n.catalog import render
from tikabot.i18n.samples import SAMPLE_PARAMS
from tikabot.queue.routes.health import COUNTED_AGAINST, DOWN_AT_ONCE

OTHER_CAUSES = ("probe_failed", "taken down", "rehearsal: taken down")  # queue/routes, rehearsal/outage.py


def _kinds(module) -> set[ErrorKind]:
    found = set()
    for value in vars(module).values():
        values = value.values() if isinstance(value, dict) else [value]
        found |= {v for v in values if isinstance(v, ErrorKind)}
    return found


def route_down_causes() -> set[str]:
    """Every error name that takes a route down (queue/routes/health.py: an account error, one of
    DOWN_AT_ONCE, or an unknown outcome or one of COUNTED_AGAINST counted against the route), from every provider's table."""
    kinds = _kinds(sending)
    for info in pkgutil.iter_modules(tikabot.handlers.__path__):
        kinds |= _kinds(importlib.import_module(f"tikabot.handlers.{info.name}"))
    return {k.name for k in kinds if k.action in (ACCOUNT, UNKNOWN) or k.name in DOWN_AT_ONCE | COUNTED_AGAINST} | set(OTHER_CAUSES)


def test_every_cause_of_a_route_outage_fits_a_dlt_variable():
    causes = route_down_causes()
    assert {"account_suspended", "provider_error", "cdac_sender_not_approved"} <= causes
    assert [c for c in causes if len(c) > MAX_VAR_CHARS] == []


def test_the_template_check_measures_the_alert_with_the_longest_cause():
    assert len(SAMPLE_PARAMS["cause"]) == max(map(len, route_down_causes()))


def test_the_alert_names_route_cause_and_fallback_in_every_language():
    for lang in ("en", "bn", "hi"):
        text = render("alert.route_down", lang, route="exotel", cause="account_suspended", fallback="twilio")
        assert "exotel" in text and "(account_suspended)" in text and "twilio" in text, text
