"""The beneficiary's dose confirmation in the outbox, in the dose's own transaction: written when a
dose is recorded (the message itself is built by flows/confirmation.py, the one builder), withdrawn
when the dose is undone before it left, and followed by a short correction when it had gone.

A dose recorded again after UNDO gets a confirmation of its own (key suffix: the message that
recorded it again), marked as a correction when the first one had reached the phone.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from tikabot.flows import effects as fx
from tikabot.flows.confirmation import confirmation_key, dose_confirmation
from tikabot.flows.names import first_name
from tikabot.i18n.catalog import render
from tikabot.outbox.messages import flush_batch, insert_message
from tikabot.outbox.unsent import CANCELLED, NEVER_SENT
from tikabot.runner.load import connection
from tikabot.store.models import Beneficiary, Dose, OutboundMessage

OUTBOX, DOSES = OutboundMessage.__table__, Dose.__table__
_BENEFICIARY = select(Beneficiary.name, Beneficiary.phone, Beneficiary.language).where(
    Beneficiary.id == bindparam("b_id"))
_OTHER_LIVE_DOSES = select(DOSES.c.dose_number).where(DOSES.c.beneficiary_id == bindparam("b_id"),
                                                      DOSES.c.voided.is_(False), DOSES.c.id != bindparam("dose_id"))


def send(session: Session, dose_id: int, effect: fx.RecordDose, today: date, again_key: str | None) -> None:
    """The confirmation of a dose just recorded; again_key: the message that recorded it again after UNDO."""
    ben, on_record = effect.confirm_to, effect.on_record
    if ben is None:  # not from a flow step: read the person and their course here
        conn = connection(session)
        row = conn.execute(_BENEFICIARY, {"b_id": effect.beneficiary_id}).one()
        ben = fx.Recipient(first_name(row.name), row.phone, row.language)
        on_record = conn.execute(_OTHER_LIVE_DOSES, {"b_id": effect.beneficiary_id, "dose_id": dose_id}).scalars()
    message = dose_confirmation(ben.first_name, effect.dose_number, effect.vaccine, on_record, today)
    key, body = confirmation_key(dose_id), None
    if again_key is not None:
        key = f"{key}-{again_key}"
        if _went(session, dose_id):
            body = render("dose.corrected", ben.language,
                          message=render(message.template, ben.language, **message.params))
    insert_message(session, key=key, recipient=ben.phone, template=message.template, language=ben.language,
                   params=message.params, body=body, beneficiary_id=effect.beneficiary_id)


def withdraw(session: Session, dose: Dose, key: str) -> None:
    """The dose was undone: withdraw its confirmation if it has not left; if it had, tell the person
    the record was corrected (key: the message that undid it)."""
    conn = connection(session)
    conn.execute(update(OUTBOX).where(_of(dose.id), *NEVER_SENT).values(status=CANCELLED))
    if not _went(session, dose.id):
        return
    person = dose.beneficiary
    insert_message(session, key=f"dose-{dose.id}-voided-{key}", recipient=person.phone, template="dose.voided",
                   language=person.language, params={"name": first_name(person.name), "dose": dose.dose_number},
                   beneficiary_id=person.id)


def _of(dose_id: int):
    return OUTBOX.c.idempotency_key.like(f"{confirmation_key(dose_id)}%")


def _went(session: Session, dose_id: int) -> bool:
    """Some confirmation of this dose was not withdrawn before it was sent."""
    flush_batch(session)
    return connection(session).execute(select(OUTBOX.c.id).where(
        _of(dose_id), OUTBOX.c.status != CANCELLED).limit(1)).first() is not None
