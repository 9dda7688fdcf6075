"""`tikabot sync`: push every dose the registry does not have yet, or has wrong, without ever
making a second record there.

Each dose is sent on its own, outside any database transaction:
- never sent and not voided: a conditional create on its identifier (`If-None-Exist:
  identifier=SYSTEM|ID`, URL-encoded), so a retry after a timeout, or a re-run after a crash between the
  registry's answer and our commit, finds the record the first attempt made (200) instead of
  making another;
- known upstream (an UNDO after sync, or a dose recorded again after its UNDO): an update of that
  resource, `entered-in-error` while voided;
- voided before it was ever synced: searched by identifier (an earlier attempt may have reached
  the registry), corrected if found, else there is nothing to send.
The Patient, Location and Practitioner are conditional creates on their identifiers too.

The answer is written back only if the dose is still what was sent: an UNDO that lands while a
dose is on its way keeps it to send again, with the registry's id. Retryable failures (network,
timeout, 408, 429, 5xx) back off exponentially with jitter; permanent ones (4xx, with the
registry's OperationOutcome as the reason) leave the dose `failed` until `tikabot sync --retry-failed`.
"""
from __future__ import annotations

import logging
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from tikabot.core.clock import as_utc, now as utcnow
from tikabot.registry import resources as r
from tikabot.registry.client import FhirClient, FhirError
from tikabot.registry.records import DoseRecord, load_record
from tikabot.registry.settings import RegistrySettings
from tikabot.store.db import transaction
from tikabot.store.models import Dose

log = logging.getLogger(__name__)

TO_SEND = ("pending", "correction_pending")
BATCH = 200


@dataclass
class SyncResult:
    outcomes: Counter = field(default_factory=Counter)  # created, existing, updated, nothing, retry, failed
    next_retry_at: datetime | None = None

    @property
    def done(self) -> int:
        return sum(self.outcomes[k] for k in ("created", "existing", "updated", "nothing"))

    def add(self, other: "SyncResult") -> None:
        self.outcomes.update(other.outcomes)
        self.next_retry_at = other.next_retry_at

    def summary(self) -> str:
        o = self.outcomes
        text = (f"synced {self.done} (created {o['created']}, already there {o['existing']}, "
                f"corrected {o['updated']}, nothing to send {o['nothing']}); "
                f"to retry {o['retry']}; failed {o['failed']}")
        return text


@dataclass(frozen=True)
class Pushed:
    outcome: str  # created | existing | updated | nothing
    upstream_id: str | None


class UpstreamIds:
    """The registry's ids of Patients, Locations and Practitioners, made once per run."""

    def __init__(self, client: FhirClient):
        self.client, self.known = client, {}

    def reference(self, resource: dict | None) -> dict | None:
        if resource is None:
            return None
        ident = resource["identifier"][0]
        token = r.search_token(ident)
        if token not in self.known:
            try:
                answer = self.client.create(resource, if_none_exist={"identifier": token})
            except FhirError as error:
                raise FhirError(f"{resource['resourceType']}: {error.reason}", error.status, error.retryable) from None
            self.known[token] = f"{resource['resourceType']}/{answer.resource['id']}"
        return {"reference": self.known[token], "identifier": ident}


def _immunization(rec: DoseRecord, systems: r.Systems, tz: str, ids: UpstreamIds) -> dict:
    refs = r.Refs(ids.reference(r.patient(rec, systems)), ids.reference(r.location(rec, systems)),
                  ids.reference(r.practitioner(rec, systems)))
    return r.immunization(rec, systems, refs, tz)


def _differs(upstream: dict, ours: dict) -> bool:
    keys = ("status", "lotNumber", "occurrenceDateTime", "protocolApplied")
    return any(upstream.get(k) != ours.get(k) for k in keys)


def push(client: FhirClient, rec: DoseRecord, systems: r.Systems, tz: str, ids: UpstreamIds) -> Pushed:
    """Send one dose; raises FhirError."""
    resource = _immunization(rec, systems, tz, ids)
    token = r.search_token(resource["identifier"][0])
    if rec.upstream_id:
        client.update({**resource, "id": rec.upstream_id})
        return Pushed("updated", rec.upstream_id)
    if rec.voided:
        found = client.search("Immunization", {"identifier": token})
        if not found:
            return Pushed("nothing", None)
        if len(found) > 1:
            raise FhirError(f"{len(found)} records upstream carry identifier {token}", retryable=False)
        client.update({**resource, "id": found[0]["id"]})
        return Pushed("updated", found[0]["id"])
    answer = client.create(resource, if_none_exist={"identifier": token})
    upstream_id = answer.resource["id"]
    if answer.status == 200 and _differs(answer.resource, resource):  # an earlier attempt, since changed
        client.update({**resource, "id": upstream_id})
        return Pushed("updated", upstream_id)
    return Pushed("created" if answer.status == 201 else "existing", upstream_id)


def _as_sent(rec: DoseRecord):
    """The dose is still what was sent: not voided or revived, not recorded again, since it was read."""
    return (Dose.id == rec.dose_id, Dose.voided == rec.voided, Dose.lot == rec.lot, Dose.vaccine == rec.vaccine,
            Dose.administered_at == rec.administered_at, Dose.dose_number == rec.dose_number)


def record_success(session: Session, rec: DoseRecord, pushed: Pushed, now: datetime) -> bool:
    done = session.execute(update(Dose).where(*_as_sent(rec)).values(
        sync_state="synced", upstream_id=pushed.upstream_id, synced_at=now, sync_error=None,
        sync_attempts=0, sync_next_at=None)).rowcount
    if not done and pushed.upstream_id:  # changed on the way: send again, as an update of that record
        dose = session.get(Dose, rec.dose_id)
        dose.upstream_id = pushed.upstream_id
        dose.sync_state = "correction_pending" if dose.voided else "pending"
        dose.sync_next_at = None  # due at once
    return bool(done)


def backoff(attempts: int, settings: RegistrySettings, rng: random.Random) -> timedelta:
    """Exponential from retry_base_s, capped, with full jitter over its upper half."""
    ceiling = min(settings.retry_cap_s, settings.retry_base_s * 2 ** max(0, attempts - 1))
    return timedelta(seconds=ceiling * rng.uniform(0.5, 1.0))


def record_failure(session: Session, rec: DoseRecord, error: FhirError, now: datetime,
                   settings: RegistrySettings, rng: random.Random) -> datetime | None:
    """Unless another sync (a worker, `tikabot sync`) got the dose through meanwhile, or it changed."""
    dose = session.scalar(select(Dose).where(*_as_sent(rec), Dose.sync_state == rec.sync_state))
    if dose is None:
        return None
    dose.sync_attempts = (dose.sync_attempts or 0) + 1
    dose.sync_error = error.reason[:2000]
    if error.retryable:
        dose.sync_state = "correction_pending" if dose.voided and dose.upstream_id else "pending"
        dose.sync_next_at = now + backoff(dose.sync_attempts, settings, rng)
        return dose.sync_next_at
    dose.sync_state, dose.sync_next_at = "failed", None
    log.warning("dose %s refused by the registry: %s", rec.dose_id, error.reason)
    return None


def _due_ids(session: Session, now: datetime, states: tuple[str, ...], after: int) -> list[int]:
    """The next doses due, in id order from `after` on: each is tried once a pass."""
    return list(session.scalars(select(Dose.id).where(
        Dose.id > after, Dose.sync_state.in_(states), or_(Dose.sync_next_at.is_(None), Dose.sync_next_at <= now))
        .order_by(Dose.id).limit(BATCH)))


def sync_pass(sessions: sessionmaker[Session], client: FhirClient, settings: RegistrySettings, tz: str, *,
              retry_failed: bool = False, now: Callable[[], datetime] = utcnow,
              rng: random.Random | None = None) -> SyncResult:
    """Send every dose due now, once each."""
    systems = r.Systems.under(settings.system_for)
    states = TO_SEND + (("failed",) if retry_failed else ())
    rng = rng or random.Random()
    ids, result, last = UpstreamIds(client), SyncResult(), 0
    while True:
        with sessions() as session:
            batch = _due_ids(session, now(), states, last)
        if not batch:
            break
        for dose_id in batch:
            last = dose_id
            with sessions() as session:
                rec = load_record(session, dose_id)
            if rec is None:
                continue
            try:
                pushed = push(client, rec, systems, tz, ids)
            except FhirError as error:
                with transaction(sessions) as session:
                    retry_at = record_failure(session, rec, error, now(), settings, rng)
                result.outcomes["retry" if error.retryable else "failed"] += 1
                if retry_at and (result.next_retry_at is None or retry_at < result.next_retry_at):
                    result.next_retry_at = retry_at
                continue
            with transaction(sessions) as session:
                record_success(session, rec, pushed, now())
            result.outcomes[pushed.outcome] += 1
    return result


def sync(sessions: sessionmaker[Session], client: FhirClient, settings: RegistrySettings, tz: str, *,
         wait_s: float = 0.0, retry_failed: bool = False, now: Callable[[], datetime] = utcnow,
         rng: random.Random | None = None) -> SyncResult:
    """Passes until nothing is due; for up to `wait_s` more, waits for retries as they fall due.
    The result's `retry` is what still waits for a retry at the end (this run's or another's)."""
    deadline = time.monotonic() + wait_s
    total = SyncResult()
    first = True
    while True:
        total.add(sync_pass(sessions, client, settings, tz, retry_failed=retry_failed and first, now=now, rng=rng))
        first = False
        retry_at = next_due(sessions)  # this pass's retries, and those another sync left waiting
        if retry_at is None or time.monotonic() + (retry_at - now()).total_seconds() > deadline:
            total.outcomes["retry"], total.next_retry_at = waiting(sessions), retry_at
            return total
        time.sleep(max(0.0, (retry_at - now()).total_seconds()))


def next_due(sessions: sessionmaker[Session]) -> datetime | None:
    """When the next dose waiting for a retry falls due."""
    with sessions() as session:
        found = session.scalar(select(func.min(Dose.sync_next_at)).where(Dose.sync_state.in_(TO_SEND)))
    return as_utc(found) if found is not None else None


def waiting(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(Dose).where(
            Dose.sync_state.in_(TO_SEND), Dose.sync_next_at.is_not(None))) or 0
