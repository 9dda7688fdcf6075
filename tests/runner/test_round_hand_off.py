"""After a round commits, its post-commit hooks (store/phases.py) hand everything to Redis: the OTP
as a send job at once, replies and confirmations on their ready lists, and the senders' new
conversation states; a round that rolls back hands off nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.support.worlds.runner import NOW, RAHIMA_PHONE, VACCINATOR
from tikabot.core.message import InboundMessage
from tikabot.outbox.transport import IN_TRANSPORT, READY
from tikabot.core.message import Held
from tikabot.runner.run import LeaseLost, process
from tikabot.store.models import OutboundMessage


def _ids(world, **where) -> list[int]:
    with world.sessions() as s:
        query = select(OutboundMessage.id).order_by(OutboundMessage.id)
        for column, value in where.items():
            query = query.where(getattr(OutboundMessage, column) == value)
        return list(s.scalars(query))


def _ready(world, lane: str) -> list[int]:
    return [int(v) for v in world.redis.lrange(READY[lane], 0, -1)]


def test_verify_queues_the_code_as_a_job_and_the_reply_on_the_reply_list(say, world):
    assert say(VACCINATOR, "VERIFY 12345678").startswith("Code sent to")
    [code] = _ids(world, template="otp.code")
    assert world.redis.hget(IN_TRANSPORT, str(code)).startswith(b"send-")  # a job on the otp queue
    assert world.redis.llen("rq:queue:otp") == 1
    assert _ready(world, "reply") == _ids(world, recipient=VACCINATOR)


def test_a_dose_round_queues_the_reply_and_the_confirmation(say, world):
    assert say(VACCINATOR, "DOSE 12345678 CS L1").startswith("Recorded:")
    assert _ready(world, "reply") == _ids(world, recipient=VACCINATOR)
    assert _ready(world, "default") == _ids(world, recipient=RAHIMA_PHONE)


def test_a_guided_conversation_state_is_saved_after_the_commit_and_cleared_when_done(say, world):
    say(VACCINATOR, "START COVISHIELD L1")
    say(VACCINATOR, "DOSE")
    assert world.redis.exists(f"tikabot:conv:{VACCINATOR}")
    say(VACCINATOR, "12345678")
    assert not world.redis.exists(f"tikabot:conv:{VACCINATOR}")


def test_a_round_whose_lease_was_lost_keeps_queues_and_saves_nothing(say, world):
    say(VACCINATOR, "START COVISHIELD L1")
    before = _ids(world)
    world.redis.delete(READY["reply"])
    held = [Held(row_id=1, lease_until=NOW, message=InboundMessage(channel="sms", provider_id="SM-lost",
                                                                     sender=VACCINATOR, text="DOSE"))]
    with pytest.raises(LeaseLost):
        process(world, held, now=NOW, pre_commit=lambda conn, done: False)
    assert _ids(world) == before and world.redis.llen(READY["reply"]) == 0
    assert not world.redis.exists(f"tikabot:conv:{VACCINATOR}")  # the guided DOSE it began was not kept
