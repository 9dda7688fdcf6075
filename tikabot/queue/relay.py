"""The relay: the database is the record, Redis only transport. Runs in the worker, once a
second, under a Redis lock so one worker at a time does it.

Each pass:
1. takes back expired leases (a worker died mid-send): those messages go back to `pending`
   keeping `attempt_started_at`, so the next sender asks the provider before sending again;
   and closes pending OTPs past their expiry;
2. moves ids off the ready lists into jobs (see dispatch), then queues pending messages that
   are due (retries, scheduled reminders) and not in transport, or that Redis lost (flushed,
   restarted without its file), including ids that were on a ready list;
3. now and then, re-queues messages whose job left the queues without claiming them;
4. starts a voice call for an OTP that SMS did not deliver in time;
5. now and then, sends coordinators one grouped alert for the messages that finally failed.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable

from rq.job import Job
from rq.exceptions import NoSuchJobError
from sqlalchemy import func, or_, select, update

from tikabot.alerts.coordinators import alert_coordinators
from tikabot.core import handoffs
from tikabot.core.clock import now as utcnow
from tikabot.dlt.records import DLT_CODE
from tikabot.core.sending import code_in, spaced_digits
from tikabot.outbox import transport
from tikabot.outbox import sealing
from tikabot.outbox.messages import add_message
from tikabot.queue.senders import SENDERS
from tikabot.queue.settings import SendSettings
from tikabot.store.models import OutboundMessage

log = logging.getLogger(__name__)
T = OutboundMessage.__table__
LOCK_KEY = "tikabot:relay:lock"
GRACE_S = 2.0  # between commit and the after-commit enqueue a message is briefly in neither place
SCAN_LIMIT = 20000


@dataclass
class RelayPass:
    leases_taken_back: int = 0
    expired: int = 0
    requeued: int = 0
    stale_requeued: int = 0
    voice_calls: int = 0
    alerts: int = 0
    requeued_ids: list[int] = field(default_factory=list)
    moved_ready: int = 0
    scrubbed: int = 0  # sealed texts (codes) cleared from final or expired messages


def take_back_leases(session, now: datetime) -> list[tuple[int, str]]:
    rows = session.execute(select(T.c.id, T.c.priority).where(T.c.status == "sending", T.c.lease_until < now)
                           .with_for_update(skip_locked=True)).all()
    if rows:
        session.execute(update(T).where(T.c.id.in_([r.id for r in rows]), T.c.status == "sending")
                        .values(status="pending", lease_until=None, updated_at=now))
    return [(r.id, r.priority) for r in rows]


def expire_stale(session, now: datetime) -> int:
    """Pending messages past their expiry (OTPs waiting for a retry) will never go: close them."""
    return session.execute(update(T).where(T.c.status == "pending", T.c.expires_at <= now)
                           .values(status="expired", updated_at=now)).rowcount


def due_messages(session, now: datetime, older_than: datetime):
    """Pending messages that are due. One without a time to go is handed to Redis just after its
    commit, so it counts only once older than the grace. One with a time to go (a retry planned
    by a status callback or a failed attempt, a scheduled reminder, a pause) is never handed off at
    commit: only the relay queues it, as soon as it is due, or a retry would wait out the grace
    on top of its back-off."""
    return session.execute(
        select(T.c.id, T.c.priority, T.c.updated_at)
        .where(T.c.status == "pending", T.c.channel.in_(list(SENDERS)),
               ((T.c.not_before.is_(None)) & (T.c.updated_at < older_than)) | (T.c.not_before <= now))
        .order_by(T.c.id).limit(SCAN_LIMIT)).all()


def in_transport(redis, ids: list[int]) -> dict[int, str]:
    if not ids:
        return {}
    values = redis.hmget(transport.IN_TRANSPORT, [str(i) for i in ids])
    return {i: v.decode() for i, v in zip(ids, values) if v is not None}


def job_waiting(redis, job_id: str) -> bool:
    """Is this job still in its queue (or being run by a live worker)?"""
    try:
        job = Job.fetch(job_id, connection=redis)
    except NoSuchJobError:
        return False
    status = job.get_status(refresh=False)
    if status == "queued":
        return redis.lpos(f"rq:queue:{job.origin}", job_id) is not None
    return status in ("scheduled", "deferred")


def requeue_lost(session, redis, now: datetime, stale_after_s: float | None) -> tuple[list, int]:
    rows = due_messages(session, now, now - timedelta(seconds=GRACE_S))
    carried = in_transport(redis, [r.id for r in rows])
    lost = [(r.id, r.priority) for r in rows if r.id not in carried]
    stale = 0
    if stale_after_s is not None:
        cutoff = now - timedelta(seconds=stale_after_s)
        suspects: dict[str, list] = {}
        for r in rows:
            if r.id in carried and r.updated_at < cutoff:
                suspects.setdefault(carried[r.id], []).append((r.id, r.priority))
        for job_id, items in suspects.items():
            if not job_waiting(redis, job_id):
                lost.extend(items)
                stale += len(items)
    return lost, stale


# Routes that take a message and never say whether it was delivered (C-DAC's MSDG answers
# "402,MsgID" and reports deliveries only in its portal). Their "accepted" is as far as a message
# gets: a call after every code they carried would double every code (718 calls in a rehearsed day).
NO_DELIVERY_REPORTS = frozenset({"cdac"})


def voice_fallbacks(session, now: datetime, settings: SendSettings, redis=None) -> int:
    """OTP SMS not delivered within voice_after_s and not expired: read the code out by a call.
    Not for one a route that never reports delivery took (NO_DELIVERY_REPORTS): only its failure
    brings the call."""
    voice_key = OutboundMessage.idempotency_key + "-voice"
    exists = select(1).where(OutboundMessage.__table__.alias("v").c.idempotency_key == voice_key).exists()
    rows = session.scalars(
        select(OutboundMessage).where(
            OutboundMessage.channel == "sms", OutboundMessage.template == "otp.code",
            OutboundMessage.status.notin_(("delivered", "expired", "canceled")),
            OutboundMessage.created_at <= now - timedelta(seconds=settings.voice_after_s),
            OutboundMessage.created_at >= now - timedelta(hours=1),
            OutboundMessage.expires_at > now + timedelta(seconds=10), ~exists)).all()
    made = 0
    seal = sealing.of_session(session)
    for sms in rows:
        if redis is not None and _taken_by_a_silent_route(redis, sms):
            continue
        code = code_in(sealing.readable(sms.body, sms.sealed_body, seal))
        if code is None:
            continue
        add_message(session, key=sms.idempotency_key + "-voice", recipient=sms.recipient, template="otp.voice",
                    language=sms.language, params={"digits": spaced_digits(code)}, priority="otp",
                    channel="voice", expires_at=sms.expires_at, beneficiary_id=sms.beneficiary_id)
        made += 1
    return made


def _taken_by_a_silent_route(redis, sms: OutboundMessage) -> bool:
    if sms.status not in ("accepted", "sent") or not sms.attempts:
        return False
    routes = handoffs.routes_of(redis, sms.id, sms.attempts)
    return bool(routes) and routes <= NO_DELIVERY_REPORTS


def alert_failures(session, now: datetime, bucket_s: float) -> int:
    """One grouped alert per closed time bucket that had final failures (alerts themselves and DLT
    refusals excluded)."""
    epoch = int(now.timestamp() // bucket_s * bucket_s - bucket_s)
    start = datetime.fromtimestamp(epoch, tz=now.tzinfo)
    end = start + timedelta(seconds=bucket_s)
    rows = session.execute(
        select(T.c.template, func.count()).where(
            T.c.status == "failed", T.c.updated_at >= start, T.c.updated_at < end,
            ~T.c.template.like("alert.%"),
            # DLT refusals have their own grouped alert (queue/routes/alerts.py)
            or_(T.c.last_error_code.is_(None), T.c.last_error_code != DLT_CODE)).group_by(T.c.template).order_by(func.count().desc())).all()
    total = sum(n for _, n in rows)
    if not total:
        return 0
    summary = ", ".join(f"{template}: {n}" for template, n in rows[:5])
    return len(alert_coordinators(session, key=f"send-failures-{epoch}", template="alert.send_failures",
                                  params={"count": total, "summary": summary}))


class Relay:
    def __init__(self, services, settings: SendSettings):
        self.services, self.settings = services, settings
        self.last_stale_check = 0.0
        self.last_alert_check = 0.0

    def run_once(self, now: datetime | None = None, force: bool = False) -> RelayPass:
        now = now or utcnow()
        redis, settings, result = self.services.redis, self.settings, RelayPass()
        tick = now.timestamp()
        check_stale = force or tick - self.last_stale_check >= settings.stale_s / 2
        check_alerts = force or tick - self.last_alert_check >= 30
        with self.services.transaction() as session:
            back = take_back_leases(session, now)
            result.expired = expire_stale(session, now)
            result.scrubbed = sealing.scrub(session, now)
        result.moved_ready = transport.move_all_ready(redis)  # waiting there is not lost
        with self.services.transaction() as session:
            lost, result.stale_requeued = requeue_lost(session, redis, now,
                                                       settings.stale_s if check_stale else None)
            result.voice_calls = voice_fallbacks(session, now, settings, redis)
            if check_alerts:
                result.alerts = alert_failures(session, now, settings.failure_alert_bucket_s)
        if check_stale:
            self.last_stale_check = tick
        if check_alerts:
            self.last_alert_check = tick
        taken_back = {i for i, _ in back}
        todo = back + [item for item in lost if item[0] not in taken_back]
        if todo:
            transport.enqueue(redis, todo)
        result.leases_taken_back, result.requeued = len(back), len(todo) - len(back)
        result.requeued_ids = [i for i, _ in todo]
        if todo:
            log.warning("relay: %d leases taken back, %d re-queued (%d stale)", len(back), result.requeued,
                        result.stale_requeued)
        return result

    def run_forever(self, stop: threading.Event, after_pass: Callable[[], object] | None = None) -> None:
        """A pass every relay_interval_s, by one worker at a time; then `after_pass` (the worker
        enqueues the periodic jobs that are due, tikabot/tasks/schedule.py)."""
        redis = self.services.redis
        while not stop.wait(self.settings.relay_interval_s):
            try:
                if redis.set(LOCK_KEY, "1", nx=True, px=int(self.settings.relay_interval_s * 900)):
                    self.run_once()
                    if after_pass is not None:
                        after_pass()
            except Exception:  # Redis restarting, database busy: try again next tick
                log.exception("relay pass failed; retrying")
