"""Apply a flow's effects inside the caller's transaction. Shared by every channel (SMS, USSD).

`apply_effects` returns replies that replace the flow's own when the outcome is only known here:
a dose that another message recorded a moment earlier, an OTP issued or checked.

A dose, whichever channel reported it: flows/staff.py decides (RecordDose) -> record_dose here (the
row, the appointment done, reminders that no longer apply withdrawn) -> runner/confirm.py (the
beneficiary's confirmation, built by flows/confirmation.py) -> outbox/messages.py (a row, sent after
the commit).
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Iterator

from sqlalchemy import bindparam, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tikabot.codes import otp
from tikabot.alerts.coordinators import alert_coordinators, sms_count
from tikabot.alerts.severe import alert_severe_aefi
from tikabot.core.clock import local_date
from tikabot.flows import effects as fx
from tikabot.flows.effects import Reply
from tikabot.core.phones import mask
from tikabot.outbox.messages import flush_batch
from tikabot.outbox.unsent import NO_PROVIDER_ID, NOT_YET_SENT
from tikabot.reminders.schedule import DUE_TEMPLATES, MISSED
from tikabot.reminders.cancel import cancel_pending, withdraw_after_dose
from tikabot.registry.states import after_void
from tikabot.runner import confirm
from tikabot.runner.load import connection
from tikabot.store import phases
from tikabot.store.appointments import ACTIVE, BOOKED, DONE
from tikabot.store.models import (
    AdverseEvent, Appointment, AuditLog, Beneficiary, Dose, OutboundMessage, Staff, VaccinationSession,
)


ON_CONFLICT = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


@dataclass(frozen=True)
class Context:
    actor: str  # the sender's phone
    source: str  # sms | ussd | telegram (Dose.source, AdverseEvent.source)
    key: str  # unique per inbound message: makes outbox keys unique and replays harmless
    now: datetime
    tz: str
    otp_secret: str
    medical_officers: tuple[str, ...] = ()  # TIKABOT_MEDICAL_OFFICERS: every SEVERE goes to them by SMS
    telegram: bool = True  # a Telegram bot is configured (TELEGRAM_BOT_TOKEN)
    # The beneficiaries (of a round's reports) with appointment messages not yet sent, read once for
    # the round inside its transaction (unsent_reminders below); None: not read, look at each dose.
    with_unsent: frozenset | None = None


DOSES, APPOINTMENTS = Dose.__table__, Appointment.__table__
# Statements built once (Core on the tables: no ORM bookkeeping); parameters come with each execute.
_DOSE_INSERT = {name: make(DOSES).on_conflict_do_nothing(index_elements=["beneficiary_id", "dose_number"])
                .returning(DOSES.c.id) for name, make in ON_CONFLICT.items()}
_DOSE_FOUND = select(DOSES.c.id, DOSES.c.voided).where(DOSES.c.beneficiary_id == bindparam("b_id"),
                                                       DOSES.c.dose_number == bindparam("number"))
_DOSE_REVIVE = update(DOSES).where(DOSES.c.id == bindparam("dose_id"), DOSES.c.voided.is_(True))


def _insert_dose(session: Session, values: dict) -> int | None:
    """INSERT the dose unless (beneficiary, dose number) exists: its id, or None on a conflict.
    One statement where the database can say ON CONFLICT DO NOTHING; a savepoint elsewhere."""
    statement = _DOSE_INSERT.get(session.get_bind().dialect.name)
    if statement is not None:
        return connection(session).execute(statement, values).scalar()
    try:
        with session.begin_nested():
            return connection(session).execute(insert(DOSES), values).inserted_primary_key[0]
    except IntegrityError:
        return None


def record_dose(session: Session, effect: fx.RecordDose, ctx: Context) -> tuple[int | None, bool]:
    """(dose id, recorded). Unique on (beneficiary, dose number); a voided row is re-used; a race
    with another message recording the same dose comes back as recorded=False."""
    values = dict(vaccine=effect.vaccine, lot=effect.lot, site_id=effect.site_id, administered_at=ctx.now,
                  vaccinator_phone=ctx.actor, source=ctx.source, created_at=ctx.now, voided=False,
                  voided_at=None, voided_by=None, needs_reconciliation=effect.needs_reconciliation,
                  sync_state="pending")
    conn = connection(session)
    dose_id = _insert_dose(session, dict(beneficiary_id=effect.beneficiary_id, dose_number=effect.dose_number,
                                         **values))
    revived = dose_id is None
    if revived:  # the row exists: re-use it if it was voided, else it is a duplicate
        dose_id, voided = conn.execute(_DOSE_FOUND, {"b_id": effect.beneficiary_id,
                                                     "number": effect.dose_number}).one()
        if not voided:
            return dose_id, False
        if not conn.execute(_DOSE_REVIVE, {"dose_id": dose_id, **values}).rowcount:
            return dose_id, False  # another message un-voided it a moment ago
    _appointment_done(session, effect.beneficiary_id, effect.dose_number)
    if ctx.with_unsent is None or effect.beneficiary_id in ctx.with_unsent:
        withdraw_after_dose(conn, effect.beneficiary_id, effect.dose_number)
    confirm.send(session, dose_id, effect, today=local_date(ctx.now, ctx.tz), again_key=ctx.key if revived else None)
    return dose_id, True


_APPOINTMENT_STATUS = (update(APPOINTMENTS)
                       .where(APPOINTMENTS.c.beneficiary_id == bindparam("b_id"),
                              APPOINTMENTS.c.dose_number == bindparam("number"),
                              APPOINTMENTS.c.status.in_(bindparam("only_from", expanding=True))))


def _set_appointment(session: Session, beneficiary_id: int, dose_number: int, status: str, only_from) -> None:
    flush_appointments(session)
    connection(session).execute(_APPOINTMENT_STATUS, {"b_id": beneficiary_id, "number": dose_number,
                                                      "only_from": list(only_from), "status": status})


# A dose's appointment done: inside `batched_appointments`, attached to the pre-commit hook "mark
# appointments done" (store/phases.py) and written for the whole transaction as one executemany
# (earlier, by flush_appointments, before any other effect, which might read appointments).
_APPOINTMENT_DONE = (update(APPOINTMENTS)
                     .where(APPOINTMENTS.c.beneficiary_id == bindparam("b_id"),
                            APPOINTMENTS.c.dose_number == bindparam("number"),
                            or_(*(APPOINTMENTS.c.status == status for status in ACTIVE)))  # no IN: executemany
                     .values(status=DONE))
_BATCHING = "tikabot.appointments_done"  # session.info: inside batched_appointments


def _mark_done(session: Session, rows: list[dict]) -> None:
    connection(session).execute(_APPOINTMENT_DONE, rows)


MARK_APPOINTMENTS_DONE = phases.Hook("mark appointments done", phases.PRE, _mark_done)


def _appointment_done(session: Session, beneficiary_id: int, dose_number: int) -> None:
    row = {"b_id": beneficiary_id, "number": dose_number}
    if session.info.get(_BATCHING):
        phases.attach(session, MARK_APPOINTMENTS_DONE, [row])
    else:
        connection(session).execute(_APPOINTMENT_DONE, row)


@contextmanager
def batched_appointments(session: Session) -> Iterator[None]:
    session.info[_BATCHING] = True
    try:
        yield
    finally:
        session.info.pop(_BATCHING, None)


def flush_appointments(session: Session) -> None:
    phases.flush(session, MARK_APPOINTMENTS_DONE)


# Never sent (outbox/unsent.py's NEVER_SENT), written so that SQLite, which plans without statistics,
# reads the people's messages by beneficiary: `status || ''` (and NO_PROVIDER_ID's COALESCE) cannot
# use the status or provider-id indexes, which would walk every unsent message in the outbox.
_UNSENT_REMINDERS = (select(OutboundMessage.beneficiary_id).distinct()
                     .where(OutboundMessage.beneficiary_id.in_(bindparam("ids", expanding=True)),
                            OutboundMessage.status.concat("").in_(NOT_YET_SENT), OutboundMessage.attempts == 0,
                            NO_PROVIDER_ID,
                            or_(OutboundMessage.appointment_id.is_not(None),
                                OutboundMessage.template.in_((MISSED.template, *DUE_TEMPLATES)))))


def unsent_reminders(session: Session, beneficiary_ids) -> frozenset:
    """Which of these beneficiaries have appointment messages not yet sent (the ones a dose may
    withdraw): one statement for a round's reports instead of an UPDATE for each dose."""
    ids = sorted(set(beneficiary_ids))
    if not ids:
        return frozenset()
    return frozenset(connection(session).execute(_UNSENT_REMINDERS, {"ids": ids}).scalars())


def _void_dose(session: Session, effect: fx.VoidDose, ctx: Context) -> None:
    dose = session.get(Dose, effect.dose_id)
    dose.voided, dose.voided_at, dose.voided_by = True, ctx.now, ctx.actor
    dose.sync_state = after_void(dose.sync_state, dose.upstream_id)  # the sync job sends the upstream correction
    _set_appointment(session, dose.beneficiary_id, dose.dose_number, BOOKED, only_from=(DONE,))
    session.add(AuditLog(at=ctx.now, actor=ctx.actor, action="dose.void",
                         detail={"dose_id": dose.id, "source": ctx.source}))
    session.flush()
    confirm.withdraw(session, dose, key=ctx.key)


def _open_session(session: Session, effect: fx.OpenSession, ctx: Context) -> None:
    today = local_date(ctx.now, ctx.tz)
    row = session.scalar(select(VaccinationSession).where(VaccinationSession.site_id == effect.site_id,
                                                          VaccinationSession.date == today))
    if row is None:
        session.add(VaccinationSession(site_id=effect.site_id, date=today, vaccine=effect.vaccine, lot=effect.lot,
                                       opened_by=ctx.actor, opened_at=ctx.now))
    else:  # reopened after END the same day
        row.vaccine, row.lot, row.opened_by, row.opened_at, row.closed_at = (
            effect.vaccine, effect.lot, ctx.actor, ctx.now, None)


def _close_session(session: Session, effect: fx.CloseSession, ctx: Context) -> None:
    row = session.get(VaccinationSession, effect.session_id)
    row.closed_at = ctx.now
    alert_coordinators(session, key=f"session-closed-{row.id}-{ctx.key}", template="alert.session_closed",
                       params={"site": effect.site_name, "dose1": effect.dose1, "dose2": effect.dose2,
                               "total": effect.total}, site_id=row.site_id)


def _record_aefi(session: Session, effect: fx.RecordAefi, ctx: Context) -> Reply | None:
    """The event; for SEVERE the alerts, and a reply saying how many people the SMS goes to (never
    that someone was told when nobody could be)."""
    event = AdverseEvent(beneficiary_id=effect.beneficiary_id, site_id=effect.site_id, severity=effect.severity,
                         note=effect.note, reported_by=ctx.actor, source=ctx.source, created_at=ctx.now)
    session.add(event)
    session.flush()
    if effect.severity != "SEVERE":
        return None
    sent = alert_severe_aefi(session, event, medical_officers=ctx.medical_officers, telegram=ctx.telegram,
                             tz=ctx.tz)
    count = sms_count(sent)
    if not count:
        return Reply("staff.aefi_severe_nobody", {"ref": effect.ref})
    return Reply("staff.aefi_severe_alerted", {"ref": effect.ref, "count": count})


def _issue_otp(session: Session, effect: fx.IssueOtp, ctx: Context) -> Reply:
    ben = session.get(Beneficiary, effect.beneficiary_id)
    issued = otp.issue(session, beneficiary=ben, staff_phone=ctx.actor, secret=ctx.otp_secret, now=ctx.now)
    if not issued.ok:
        return Reply("staff.verify_limited", {"minutes": issued.retry_minutes})
    return Reply("staff.verify_sent", {"ref": ben.ref, "phone": mask(ben.phone)})


OTP_REPLIES = {"ok": "staff.otp_ok", "wrong": "staff.otp_wrong", "expired": "staff.otp_expired",
               "locked": "staff.otp_locked", "none": "staff.otp_none"}


def _check_otp(session: Session, effect: fx.CheckOtp, ctx: Context) -> Reply:
    result = otp.check(session, beneficiary_id=effect.beneficiary_id, code=effect.code, secret=ctx.otp_secret,
                       now=ctx.now, today=local_date(ctx.now, ctx.tz), checked_by=ctx.actor)
    params = {"ref": effect.ref, "name": effect.name, "tries_left": result.tries_left, "minutes": result.minutes}
    return Reply(OTP_REPLIES[result.outcome], params)


def _set_language(session: Session, effect: fx.SetLanguage, ctx: Context) -> None:
    model = Staff if effect.who == "staff" else Beneficiary
    person = session.get(model, effect.record_id)
    person.language, person.language_chosen_at = effect.lang, ctx.now  # the person's: imports keep it


def _set_opt_out(session: Session, effect: fx.SetOptOut, ctx: Context) -> None:
    session.get(Beneficiary, effect.beneficiary_id).opted_out = effect.opted_out
    if effect.opted_out:  # STOP; after START the planner brings back what is still due
        cancel_pending(session, beneficiary_id=effect.beneficiary_id, reason="STOP")


def _set_appointment_status(session: Session, effect: fx.SetAppointmentStatus, ctx: Context) -> None:
    appt = session.get(Appointment, effect.appointment_id)
    if appt.status in ACTIVE:
        appt.status = effect.status
        if effect.status == "cancelled":
            cancel_pending(session, appointment_id=appt.id, beneficiary_id=appt.beneficiary_id,
                           reason="cancelled by the beneficiary")


def apply_effects(session: Session, effects: list, ctx: Context, recorded: list | None = None) -> list[Reply]:
    """Write every effect; return replies that must replace the flow's (empty: keep the flow's).
    recorded: a list the doses newly recorded are appended to."""
    replies: list[Reply] = []
    for effect in effects:
        if not isinstance(effect, fx.RecordDose):
            flush_batch(session)  # the outbox and appointments as they stand, for effects that read them
            flush_appointments(session)
        if isinstance(effect, fx.RecordDose):
            _, done = record_dose(session, effect, ctx)
            if not done:
                replies.append(Reply("staff.dose_duplicate", {"ref": effect.ref, "dose": effect.dose_number}))
            elif recorded is not None:
                recorded.append(effect)
        elif isinstance(effect, fx.IssueOtp):
            replies.append(_issue_otp(session, effect, ctx))
        elif isinstance(effect, fx.CheckOtp):
            replies.append(_check_otp(session, effect, ctx))
        elif isinstance(effect, fx.RecordAefi):
            reply = _record_aefi(session, effect, ctx)
            replies += [reply] if reply else []
        else:
            APPLY[type(effect)](session, effect, ctx)
    return replies


APPLY = {
    fx.VoidDose: _void_dose, fx.OpenSession: _open_session, fx.CloseSession: _close_session,
    fx.SetLanguage: _set_language, fx.SetOptOut: _set_opt_out,
    fx.SetAppointmentStatus: _set_appointment_status,
}
