"""The outbox's batched INSERT (a round of replies and confirmations in one statement) keeps every
field of every message, on SQLite and PostgreSQL alike, and skips a key already there."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from tikabot.outbox.transport import READY
from tikabot.outbox.messages import add_message, batched, insert_message
from tikabot.store.models import OutboundMessage

AT = datetime(2026, 12, 2, 9, 30, tzinfo=timezone.utc)
FIELDS = ("recipient", "template", "language", "body", "priority", "channel", "via", "expires_at", "not_before",
          "buttons", "encoding", "segments", "status", "attempts")


def messages():
    ist = timezone(timedelta(hours=5, minutes=30))
    return [
        dict(key="b-1", recipient="+919830000001", template="staff.dose_recorded", language="en",
             body="Recorded: 12345678 (Rahima), dose 1.", priority="reply", channel="sms", via="android:kalyani"),
        dict(key="b-2", recipient="+919830000002", template="ben.dose_confirmation", language="bn",
             body="আপনার প্রথম ডোজ নথিভুক্ত হয়েছে।", priority="default", channel="sms",
             expires_at=AT.astimezone(ist) + timedelta(hours=2), not_before=AT + timedelta(minutes=5)),
        dict(key="b-3", recipient="4242", template="alert.severe", language="hi", body="गंभीर दुष्प्रभाव",
             priority="default", channel="telegram", buttons=[["देख लिया", "ack:7"], ["विवरण", "show:7"]]),
    ]


def stored(services, keys):
    with services.sessions() as s:
        rows = s.scalars(select(OutboundMessage).where(OutboundMessage.idempotency_key.in_(keys))
                         .order_by(OutboundMessage.idempotency_key)).all()
        return [{f: getattr(r, f) for f in FIELDS} for r in rows]


def test_a_batch_keeps_every_field_as_one_message_at_a_time_does(services):
    with services.transaction() as s:
        with batched(s):
            for m in messages():
                assert insert_message(s, **m) is None  # collected, written when the block ends
    with services.transaction() as s:
        for m in messages():
            add_message(s, **{**m, "key": "one-" + m["key"]})
    batch, single = stored(services, ["b-1", "b-2", "b-3"]), stored(services, ["one-b-1", "one-b-2", "one-b-3"])
    assert batch == single
    assert batch[1]["expires_at"] == AT + timedelta(hours=2) and batch[1]["not_before"] == AT + timedelta(minutes=5)
    assert batch[2]["buttons"] == [["देख लिया", "ack:7"], ["विवरण", "show:7"]] and batch[0]["via"] == "android:kalyani"


def test_a_key_already_kept_is_skipped_and_handed_off_once(services):
    redis = services.redis
    with services.transaction() as s:
        with batched(s):
            insert_message(s, **messages()[0])
    assert redis.lrange(READY["reply"], 0, -1) == [str(id_of(services, "b-1")).encode()]
    with services.transaction() as s:
        with batched(s):
            for m in messages():
                insert_message(s, **m)
    # b-3 handed off after the commit; b-2 waits for its not_before; b-1 was kept (and handed off) before
    assert redis.lrange(READY["default"], 0, -1) == [str(id_of(services, "b-3")).encode()]
    assert redis.llen(READY["reply"]) == 1 and redis.llen(READY["bulk"]) == 0
    assert len(stored(services, ["b-1", "b-2", "b-3"])) == 3


def id_of(services, key: str) -> int:
    with services.sessions() as s:
        return s.scalar(select(OutboundMessage.id).where(OutboundMessage.idempotency_key == key))
