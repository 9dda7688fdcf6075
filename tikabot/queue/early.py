"""Delivery reports that come before the send's own record: kept in Redis until it is written.

A provider may report on a message before the send job has recorded what the provider answered
(the send job records a whole batch at once, after its last send): NIC's report names only NIC's
request id, which no row holds yet. Such a report, from a route that signed it, is kept here under
its provider id, for KEEP_S (well past a send's lease), and applied as soon as the row holds that
id: by the send job right after its record commits, and by the report's own request once more after
keeping it, in case the record committed in between. Either side may apply it, or both: reports
only move a message forward, so a second application changes nothing. Should both miss it (the
worker stopped between its record and its look, the database failed the look), a periodic sweep
(tasks/early_reports.py) applies every report still kept whose row now holds the id.

A report is kept as it was read (StatusReport), one Redis list per provider id, at most
MAX_KEPT reports each; when Redis cannot answer nothing is kept, as before.
"""
from __future__ import annotations

import json
import logging
import time

from redis.exceptions import RedisError

from tikabot.core.sending import ErrorKind, StatusReport

log = logging.getLogger(__name__)
PREFIX = "tikabot:early-report:"
KEEP_S = 900  # a send is recorded within its lease (a minute at most); then no report can be early
MAX_KEPT = 8  # sent, delivered, and a few repeats: a provider's own reports on one message


def _key(provider_id: str) -> str:
    return PREFIX + provider_id


def _dump(report: StatusReport) -> str:
    kind = None if report.kind is None else {k: getattr(report.kind, k) for k in ErrorKind.__dataclass_fields__}
    return json.dumps({"provider_id": report.provider_id, "status": report.status, "error_code": report.error_code,
                       "message_id": report.message_id, "attempt": report.attempt, "kind": kind,
                       "code": report.code, "via": report.via, "kept_at": time.time_ns()})


def _load(raw: bytes | str) -> StatusReport:
    data = json.loads(raw)
    kind = data.get("kind")
    return StatusReport(data["provider_id"], data["status"], data.get("error_code"), data.get("message_id"),
                        data.get("attempt"), kind=ErrorKind(**kind) if kind else None, code=data.get("code"),
                        via=data.get("via"))


def keep(redis, report: StatusReport) -> bool:
    """Keep a report whose provider id no row holds yet; False when Redis cannot take it."""
    key = _key(report.provider_id)
    try:
        with redis.pipeline(transaction=True) as pipe:
            pipe.rpush(key, _dump(report))
            pipe.ltrim(key, -MAX_KEPT, -1)
            pipe.expire(key, KEEP_S)
            pipe.execute()
    except RedisError:
        log.warning("report %s for %s not kept: Redis unavailable", report.status, report.provider_id)
        return False
    return True


def waiting(redis, provider_ids) -> dict[str, list[tuple[bytes, StatusReport]]]:
    """The reports kept for these provider ids, in the order they came: {id: [(raw, report)]}."""
    ids = [p for p in dict.fromkeys(provider_ids) if p]
    if not ids:
        return {}
    try:
        with redis.pipeline(transaction=False) as pipe:
            for provider_id in ids:
                pipe.lrange(_key(provider_id), 0, -1)
            found = pipe.execute()
    except RedisError:
        return {}
    kept = {}
    for provider_id, raws in zip(ids, found):
        if raws:
            kept[provider_id] = [(raw, _load(raw)) for raw in raws]
    return kept


def kept_ids(redis, limit: int = 10_000) -> list[str]:
    """The provider ids reports are kept for, at most `limit` of them; none when Redis cannot answer."""
    ids = []
    try:
        for name in redis.scan_iter(match=PREFIX + "*", count=500):
            name = name.decode() if isinstance(name, bytes) else name
            ids.append(name[len(PREFIX):])
            if len(ids) >= limit:
                break
    except RedisError:
        return []
    return ids


def forget(redis, done: list[tuple[str, bytes]]) -> None:
    """Drop the reports applied, each by its own value (one applied by the other side too is gone already)."""
    if not done:
        return
    try:
        with redis.pipeline(transaction=False) as pipe:
            for provider_id, raw in done:
                pipe.lrem(_key(provider_id), 1, raw)
            pipe.execute()
    except RedisError:  # they expire; applied again, they change nothing
        pass
