"""One USSD request, end to end: session progress from Redis, facts, a pure menu step, effects, screen.

    from tikabot.core.ussd import UssdRequest
    from tikabot.runner.ussd import handle_ussd
    reply = handle_ussd(services, UssdRequest(session_id=..., phone="+91...", inputs=["1", "2"]))
    reply.text, reply.end  # the gateway adapter turns these into "CON ..." / "END ..."

The gateway sends every input of the session so far with each request. The menu's progress
(which inputs were handled, the screen stack, what was entered) lives in Redis under
tikabot:ussd:<sessionId> for SESSION_TTL seconds. Each input is handled in its own database
transaction with an InboundMessage row keyed by session and input number, so a repeated request
changes nothing and gets the same screen. Effects go through runner/apply.py, the code path the
SMS runner uses (source "ussd"), under the same per-phone lock, the same write gate and the same
site lock (store/gate.py) around the transaction that reads the site's count: a dose reported by
SMS and by USSD is one record, and "Today: N" is exact whichever channel reports.
"""
from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime

from sqlalchemy import select

from tikabot.core import clock
from tikabot.core.ussd import UssdReply, UssdRequest
from tikabot.flows import report_via, ussd_menus, vaccines
from tikabot.flows.effects import CheckOtp, IssueOtp
from tikabot.flows.ussd_menus import MenuFacts
from tikabot.i18n.catalog import render
from tikabot.core.phones import mask
from tikabot.runner import guards, probes
from tikabot.runner.apply import Context, apply_effects
from tikabot.store.gate import lock_site, write_gate
from tikabot.runner.load import active_staff, sender_facts, staff_facts
from tikabot.store.models import Beneficiary, Staff
from tikabot.store.models import InboundMessage as InboundRow

log = logging.getLogger(__name__)
CHANNEL = "ussd"
SESSION_TTL = 10 * 60  # gateways end a session after 2-3 minutes of silence; keep a margin


def _key(session_id: str) -> str:
    return f"tikabot:ussd:{session_id}"


def _provider_id(session_id: str, number: int) -> str:
    """InboundMessage.provider_id (64 characters at most) for input `number` of a session."""
    sid = session_id if len(session_id) <= 40 else hashlib.sha256(session_id.encode()).hexdigest()[:40]
    return f"ussd-{sid}-{number}"


def _load(redis, session_id: str) -> dict | None:
    raw = redis.get(_key(session_id))
    return json.loads(raw) if raw else None


def _save(redis, session_id: str, saved: dict) -> None:
    redis.set(_key(session_id), json.dumps(saved), ex=SESSION_TTL)


def caller_language(services, phone: str | None) -> str:
    """The language of a registered phone (active staff first, then a beneficiary), else English.
    It picks the words of the busy, expired and error screens, so it never raises."""
    if not phone:
        return "en"
    try:
        with services.engine.connect() as conn:
            found = conn.scalar(select(Staff.language).where(Staff.phone == phone, Staff.active.is_(True)))
            if found is None:
                found = conn.scalar(select(Beneficiary.language).where(Beneficiary.phone == phone)
                                    .order_by(Beneficiary.id).limit(1))
    except Exception:  # the database is what failed: English rather than no screen at all
        log.warning("could not read the language of %s", mask(phone))
        return "en"
    return found or "en"


def _expired(services, phone: str) -> UssdReply:
    return UssdReply(render("ussd.expired", caller_language(services, phone)), end=True)


def handle_ussd(services, request: UssdRequest, now: datetime | None = None) -> UssdReply:
    if services.redis is None:
        raise RuntimeError("the USSD runner needs Redis (REDIS_URL)")
    now = now or clock.now()
    redis = services.redis
    with guards.sender_lock(redis, request.phone):
        saved = _load(redis, request.session_id)
        if saved is not None and saved["phone"] != request.phone:
            log.warning("USSD session %s answered from another phone %s", request.session_id, mask(request.phone))
            return _expired(services, request.phone)
        if saved is None and request.inputs:  # progress expired or lost: never guess what was meant
            return _expired(services, request.phone)
        if saved is None:
            saved = {"phone": request.phone, "menu": None, "screen": None, "end": False}
        if saved["menu"] is not None and saved["menu"]["seen"] >= len(request.inputs):
            return UssdReply(saved["screen"], saved["end"])  # the same request again
        if saved["end"]:
            return _expired(services, request.phone)
        while saved["menu"] is None or saved["menu"]["seen"] < len(request.inputs):
            saved = _one_input(services, request, saved, now)
            _save(redis, request.session_id, saved)
            if saved["end"]:
                break
    return UssdReply(saved["screen"], saved["end"])


def _one_input(services, request: UssdRequest, saved: dict, now: datetime) -> dict:
    """Handle the next input (or open the menu) in one transaction; the new saved progress."""
    config = services.config
    state = saved["menu"]
    number = state["seen"] + 1 if state else 0
    provider_id = _provider_id(request.session_id, number)
    with write_gate(services.engine), services.transaction() as session:
        row = session.scalar(select(InboundRow).where(InboundRow.provider_id == provider_id))
        if row is not None:  # handled before, and Redis lost the progress after the commit
            return {**saved, "screen": row.reply, "end": True}
        text = request.inputs[number - 1] if number else ""
        inbound = InboundRow(provider_id=provider_id, channel=CHANNEL, sender=request.phone, body=text,
                             received_at=now)
        session.add(inbound)
        session.flush()
        facts = _facts(session, config, request, state, now)
        if ussd_menus.paging(state, request.inputs):  # 98 on a long screen: its next page, nothing else
            step = ussd_menus.step(state, request.inputs, facts)
            inbound.reply = step.screen
            return {**saved, "menu": step.state, "screen": step.screen, "end": step.done}
        if facts.staff is not None and not report_via.allows(facts.staff.report_via, report_via.USSD):
            log.warning("refused: staff %s by USSD, bound to %s; nothing recorded",
                        mask(request.phone), facts.staff.report_via)
            return _ended(inbound, saved, state, request, render("staff.wrong_route", facts.language), facts)
        step = ussd_menus.step(state, request.inputs, facts)
        guessing = facts.staff is not None and _guessing(state, request.inputs, facts, step.effects)
        paused = probes.paused_minutes(services.redis, request.phone, now) if guessing else 0
        if paused:  # runner/probes.py: the phone's checks are paused; nothing is looked up or checked
            return _ended(inbound, saved, state, request,
                          render("staff.probe_locked", facts.language, minutes=paused), facts)
        ctx = Context(actor=request.phone, source=CHANNEL, key=provider_id, now=now, tz=config.tz,
                      otp_secret=config.otp_secret, medical_officers=config.medical_officers,
                      telegram=bool(config.telegram_bot_token))
        replies = apply_effects(session, step.effects, ctx)
        if step.screen is None or replies:
            step = ussd_menus.outcome(step.state, replies, facts)
        inbound.reply = step.screen
        failures = probes.failures_in(replies) + (1 if guessing and _unknown_ref(state, request.inputs, facts) else 0)
        if failures:
            counted = probes.count_failures(services.redis, request.phone, failures, now)
            if counted.new_pause:
                probes.alert_pause(session, phone=request.phone, site=facts.staff.site_name,
                                   minutes=counted.paused_minutes, now=now)
                return _ended(inbound, saved, step.state, request,
                              render("staff.probe_locked", facts.language, minutes=counted.paused_minutes), facts)
    return {**saved, "menu": step.state, "screen": step.screen, "end": step.done}


def _ended(inbound, saved: dict, state: dict | None, request: UssdRequest, screen: str, facts: MenuFacts) -> dict:
    """The session ends on screen (after its pages, when it is longer than one USSD string)."""
    step = ussd_menus.ended(state, request.inputs, screen, facts)
    inbound.reply = step.screen
    return {**saved, "menu": step.state, "screen": step.screen, "end": step.done}


def _unknown_ref(state: dict | None, inputs: list[str], facts: MenuFacts) -> bool:
    return ussd_menus.wanted_ref(state, inputs) is not None and facts.staff.beneficiary is None


def _guessing(state: dict | None, inputs: list[str], facts: MenuFacts, effects) -> bool:
    """This input looks a REF up that does not exist, or sends or checks a code."""
    return _unknown_ref(state, inputs, facts) or any(isinstance(e, (IssueOtp, CheckOtp)) for e in effects)


def _facts(session, config, request: UssdRequest, state: dict | None, now: datetime) -> MenuFacts:
    names = tuple(v.name for v in vaccines.known())
    staff = active_staff(session, request.phone)
    if staff is not None:
        if staff.site_id:  # the site's count is read and a dose may be recorded: as the SMS runner does
            lock_site(session, staff.site_id)
        ref = ussd_menus.wanted_ref(state, request.inputs)
        found = staff_facts(session, staff, keyword="USSD", ref=ref, now=now, tz=config.tz)
        return MenuFacts(now=now, language=found.language, staff=found, vaccines=names)
    sender = sender_facts(session, request.phone, "", now=now, tz=config.tz)
    return MenuFacts(now=now, language=sender.language, sender=sender, vaccines=names)
