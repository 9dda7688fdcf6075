"""The record. Every table the product writes; Redis holds only transport and short-lived state."""
from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import (
    JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, TypeDecorator,
    UniqueConstraint, false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Stored as UTC on every backend (SQLite keeps no offset); read back timezone-aware."""
    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: store timezone-aware values only")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime()}


class Site(Base):
    __tablename__ = "sites"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # the name in each reader's language (sites.csv name_en, name_bn, name_hi); see i18n/places.py
    name_en: Mapped[str | None] = mapped_column(String(200))
    name_bn: Mapped[str | None] = mapped_column(String(200))
    name_hi: Mapped[str | None] = mapped_column(String(200))
    district: Mapped[str] = mapped_column(String(100), default="")
    state: Mapped[str] = mapped_column(String(100), default="")
    manual_mode: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Staff(Base):
    __tablename__ = "staff"
    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))  # vaccinator | verifier | coordinator
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    language: Mapped[str] = mapped_column(String(2), default="en")
    language_chosen_at: Mapped[datetime | None] = mapped_column()  # set by LANG; a re-import keeps the choice
    telegram_user_id: Mapped[int | None] = mapped_column(Integer, index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # a coordinator's level (staff.csv `level`): site or mobiliser (their site_id), district (the
    # default, None) or state; state gets the alerts a district left unacknowledged. What each level
    # sees and acts on: tikabot/store/scope.py
    level: Mapped[str | None] = mapped_column(String(10))
    # the district (level district) or state (level state) a coordinator answers for (staff.csv `scope`)
    scope: Mapped[str | None] = mapped_column(String(100))
    # the routes this member's SMS may come through (staff.csv `report_via`, flows/report_via.py):
    # "android:ranaghat exotel"; None: any route
    report_via: Mapped[str | None] = mapped_column(String(200))
    site: Mapped[Site | None] = relationship()


class Beneficiary(Base):
    __tablename__ = "beneficiaries"
    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(14), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(20), index=True)
    language: Mapped[str] = mapped_column(String(2), default="bn")
    language_chosen_at: Mapped[datetime | None] = mapped_column()  # set by LANG; a re-import keeps the choice
    category: Mapped[str] = mapped_column(String(50), default="")
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    site: Mapped[Site | None] = relationship()


class Appointment(Base):
    __tablename__ = "appointments"
    __table_args__ = (UniqueConstraint("beneficiary_id", "dose_number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiaries.id"))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    dose_number: Mapped[int] = mapped_column(Integer)
    date: Mapped[date] = mapped_column(Date, index=True)
    slot: Mapped[str] = mapped_column(String(11))  # "09:00-11:00"
    # HMAC of the 4-digit code (tikabot/codes/appointment.py); the code itself goes out once, in the booking SMS
    security_code_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12), default="booked")  # booked|confirmed|cancelled|done|missed
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    beneficiary: Mapped[Beneficiary] = relationship()
    site: Mapped[Site] = relationship()


class VaccinationSession(Base):
    """A site's working day: opened by START, closed by END."""
    __tablename__ = "sessions"
    __table_args__ = (UniqueConstraint("site_id", "date"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    date: Mapped[date] = mapped_column(Date)
    vaccine: Mapped[str] = mapped_column(String(40))
    lot: Mapped[str] = mapped_column(String(40))
    opened_by: Mapped[str] = mapped_column(String(20))
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column()


class Dose(Base):
    __tablename__ = "doses"
    __table_args__ = (UniqueConstraint("beneficiary_id", "dose_number"),
                      Index("ix_doses_site_day", "site_id", "administered_at", "dose_number", "voided"),  # covers the count of a site's doses today
                      Index("ix_doses_sync", "sync_state", "sync_next_at"))  # what the registry sync still has to send
    id: Mapped[int] = mapped_column(primary_key=True)
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiaries.id"))
    dose_number: Mapped[int] = mapped_column(Integer)
    vaccine: Mapped[str] = mapped_column(String(40))
    lot: Mapped[str] = mapped_column(String(40))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    administered_at: Mapped[datetime] = mapped_column(index=True)
    vaccinator_phone: Mapped[str] = mapped_column(String(20), default="")
    source: Mapped[str] = mapped_column(String(10))  # sms | ussd | paper | telegram
    voided: Mapped[bool] = mapped_column(Boolean, default=False)
    voided_at: Mapped[datetime | None] = mapped_column()
    voided_by: Mapped[str | None] = mapped_column(String(20), index=True)  # the phone that sent UNDO
    # recorded with an earlier dose given elsewhere and not on record: to check against the portal
    needs_reconciliation: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    sync_state: Mapped[str] = mapped_column(String(20), default="pending")  # pending|synced|correction_pending|failed
    # The upstream registry's side (tikabot/registry/sync.py): its resource id, the attempts so far,
    # when a retryable failure may be tried again, and the last error (a permanent one is the reason).
    upstream_id: Mapped[str | None] = mapped_column(String(64))
    sync_attempts: Mapped[int] = mapped_column(Integer, default=0)
    sync_next_at: Mapped[datetime | None] = mapped_column()
    sync_error: Mapped[str | None] = mapped_column(Text)
    synced_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    beneficiary: Mapped[Beneficiary] = relationship()
    site: Mapped[Site] = relationship()


class AdverseEvent(Base):
    __tablename__ = "adverse_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiaries.id"))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    severity: Mapped[str] = mapped_column(String(10))  # MINOR | SEVERE
    note: Mapped[str] = mapped_column(Text, default="")
    reported_by: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(10), default="sms")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboundMessage(Base):
    """The outbox: written in the same transaction as its cause, then queued."""
    __tablename__ = "outbound_messages"
    __table_args__ = (Index("ix_outbound_status_lease", "status", "lease_until"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    channel: Mapped[str] = mapped_column(String(10))  # sms | voice | telegram
    # the provider route asked for (None: routing decides); once sent, the one that carried it
    via: Mapped[str | None] = mapped_column(String(40))
    recipient: Mapped[str] = mapped_column(String(40), index=True)
    template: Mapped[str] = mapped_column(String(60))
    language: Mapped[str] = mapped_column(String(2), default="en")
    body: Mapped[str] = mapped_column(Text)  # codes masked (outbox/sealing.py)
    sealed_body: Mapped[str | None] = mapped_column(Text)  # the real text, encrypted, until final
    encoding: Mapped[str] = mapped_column(String(5), default="GSM-7")
    segments: Mapped[int] = mapped_column(Integer, default=1)
    priority: Mapped[str] = mapped_column(String(7), default="default")  # otp | default | bulk
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    provider_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    last_error_code: Mapped[str | None] = mapped_column(String(40))  # Twilio codes, Android result names
    lease_until: Mapped[datetime | None] = mapped_column()
    attempt_started_at: Mapped[datetime | None] = mapped_column()
    not_before: Mapped[datetime | None] = mapped_column()
    expires_at: Mapped[datetime | None] = mapped_column()
    beneficiary_id: Mapped[int | None] = mapped_column(ForeignKey("beneficiaries.id"), index=True)
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointments.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()
    delivered_at: Mapped[datetime | None] = mapped_column()
    # Telegram inline buttons under the text: [[[label, callback data], ...], ...] (alerts to act on)
    buttons: Mapped[list | None] = mapped_column(JSON)


class InboundMessage(Base):
    """The inbox: every inbound message, kept before the webhook answers, then processed by a
    worker in order per sender (tikabot/inbox/). USSD writes its inputs here already `done`."""
    __tablename__ = "inbound_messages"
    __table_args__ = (Index("ix_inbound_status_id", "status", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[str] = mapped_column(String(10))
    via: Mapped[str | None] = mapped_column(String(40))  # the provider route it arrived on
    sender: Mapped[str] = mapped_column(String(40), index=True)
    body: Mapped[str] = mapped_column(Text)
    reply: Mapped[str | None] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(10), default="done", server_default="done")  # new | done | failed
    lease_until: Mapped[datetime | None] = mapped_column()  # a worker is processing it until then
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    processed_at: Mapped[datetime | None] = mapped_column()


class OtpRecord(Base):
    """A verification code: only its HMAC is stored, never the code."""
    __tablename__ = "otp_records"
    id: Mapped[int] = mapped_column(primary_key=True)
    beneficiary_id: Mapped[int] = mapped_column(ForeignKey("beneficiaries.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    requested_by: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()


class AuditLog(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


class DltTemplate(Base):
    """An approved TRAI DLT content template: one per catalog entry, language and plural form
    (tikabot/dlt/). `text` is what was registered ({#var#} for each variable): a message is sent
    on a domestic route only when it matches it exactly."""
    __tablename__ = "dlt_templates"
    __table_args__ = (UniqueConstraint("template", "language", "form"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    template: Mapped[str] = mapped_column(String(60))
    language: Mapped[str] = mapped_column(String(2))
    form: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(Text)
    template_id: Mapped[str] = mapped_column(String(19), unique=True)
    entity_id: Mapped[str] = mapped_column(String(19))
    header: Mapped[str] = mapped_column(String(6))
    category: Mapped[str] = mapped_column(String(20), default="transactional")
    content_type: Mapped[str] = mapped_column(String(7), default="Text")
    approved_at: Mapped[datetime] = mapped_column(default=utcnow)
class CoordinatorAlert(Base):
    """One alert to coordinators (its messages are outbox rows keyed `alert-<key>-<staff id>`): who
    acknowledged it and when, when it was sent again and escalated, when it stopped being true."""
    __tablename__ = "coordinator_alerts"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # no_session | silent | severe | ...
    severity: Mapped[str] = mapped_column(String(10), default="normal")  # normal | severe
    site_codes: Mapped[list] = mapped_column(JSON, default=list)
    raised_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    acked_at: Mapped[datetime | None] = mapped_column()
    acked_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    resent_at: Mapped[datetime | None] = mapped_column()
    escalated_at: Mapped[datetime | None] = mapped_column()
    resolved_at: Mapped[datetime | None] = mapped_column()
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
