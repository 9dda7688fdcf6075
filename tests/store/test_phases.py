"""Named commit phases (store/phases.py): a transaction runs its pre-commit hooks inside it in the
documented order, then COMMIT, then its post-commit hooks, each isolated; nothing after a rollback.
Real SQLite and the embedded Redis; the hooks below stand in for the product's own by name."""
from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from redis import Redis
from sqlalchemy import func, select

from tikabot.core import clock
from tikabot.outbox.transport import IN_TRANSPORT, READY
from tikabot.outbox.messages import add_message
from tikabot.queue.relay import GRACE_S, Relay
from tikabot.queue.settings import SendSettings
from tikabot.runner import guards
from tikabot.store import phases
from tikabot.store.models import AuditLog, OutboundMessage


def message(s, key: str, priority: str = "default") -> OutboundMessage:
    return add_message(s, key=key, recipient="+919830000001", template="x", body=f"message {key}",
                       priority=priority)


def committed_messages(services, model=OutboundMessage) -> int:
    """Read on a connection of its own: only what a COMMIT made visible."""
    with services.sessions() as other:
        return other.scalar(select(func.count()).select_from(model))


def audit(s, action: str = "test") -> None:
    s.add(AuditLog(at=clock.now(), actor="test", action=action, detail={}))


def recording(ran: list, services=None) -> dict[str, phases.Hook]:
    """A hook for every documented name that notes its name (and, after the commit, how many
    outbox rows another connection sees)."""
    def pre(name):
        return lambda session, items: ran.append((name, items))

    def post(name):
        return lambda redis, pipe, items: ran.append((name, items, committed_messages(services, AuditLog)))
    return {**{n: phases.Hook(n, phases.PRE, pre(n)) for n in phases.PRE_COMMIT},
            **{n: phases.Hook(n, phases.POST, post(n)) for n in phases.POST_COMMIT}}


def test_hooks_run_in_the_documented_order_pre_commit_inside_post_commit_after_the_commit(services):
    ran: list = []
    hooks = recording(ran, services)
    with services.transaction() as s:
        audit(s)
        for name in reversed(phases.PRE_COMMIT + phases.POST_COMMIT):  # attached in the opposite order
            phases.attach(s, hooks[name], [name])
        assert ran == []  # nothing runs before the transaction ends
    assert [entry[0] for entry in ran] == list(phases.PRE_COMMIT + phases.POST_COMMIT)
    assert all(entry[2] == 1 for entry in ran if entry[0] in phases.POST_COMMIT)  # the row was committed


def test_a_pre_commit_hook_writes_inside_the_transaction_and_before_the_commit(services):
    seen: list = []

    def write(session, items):
        seen.append(committed_messages(services, AuditLog))  # nothing of the transaction is committed yet
        for item in items:
            audit(session, item)
    with services.transaction() as s:
        audit(s, "before")
        phases.attach(s, phases.Hook("write outbox rows", phases.PRE, write), ["first", "second"])
    assert seen == [0]
    with services.sessions() as s:
        assert sorted(s.scalars(select(AuditLog.action))) == ["before", "first", "second"]


def test_nothing_runs_after_a_rollback(services):
    ran: list = []
    hooks = recording(ran, services)
    with pytest.raises(RuntimeError):
        with services.transaction() as s:
            audit(s)
            for hook in hooks.values():
                phases.attach(s, hook, ["x"])
            raise RuntimeError("the work failed")
    assert ran == [] and committed_messages(services, AuditLog) == 0


def test_a_pre_commit_hook_that_fails_rolls_back_and_no_post_commit_hook_runs(services):
    ran: list = []
    hooks = recording(ran, services)

    def refuse(session, items):
        raise LookupError("lease lost")
    with pytest.raises(LookupError):
        with services.transaction() as s:
            message(s, "m-1")
            phases.attach(s, phases.Hook("mark inbox messages done", phases.PRE, refuse), ["held"])
            phases.attach(s, hooks["save conversation states"], [("+919830000001", {"step": 1})])
    assert ran == [] and committed_messages(services) == 0
    assert services.redis.llen(READY["default"]) == 0  # the message that was rolled back is not queued


def test_a_failing_post_commit_hook_is_named_in_the_log_and_the_others_still_go_out(services, caplog):
    def broken(redis, pipe, items):
        pipe.set("tikabot:test:half-done", "1")  # a command it added before failing is dropped
        raise ValueError("broken")
    with caplog.at_level(logging.ERROR, logger="tikabot.store.phases"):
        with services.transaction() as s:
            row = message(s, "m-1")
            phases.attach(s, phases.Hook("save conversation states", phases.POST, broken), [("+91", None)])
    assert services.redis.lrange(READY["default"], 0, -1) == [str(row.id).encode()]  # "queue sends" went out
    assert services.redis.get("tikabot:test:half-done") is None
    assert "'save conversation states' failed" in caplog.text


def test_post_commit_hooks_of_one_transaction_share_one_round_trip(services):
    with services.transaction() as s:
        otp, reply = message(s, "m-otp", "otp"), message(s, "m-reply", "reply")
        phases.attach(s, guards.SAVE_STATES, [("+919830000001", {"flow": "dose"})])
        calls = []
        original = services.redis.pipeline

        def counting_pipeline(*args, **kwargs):
            calls.append(1)
            return original(*args, **kwargs)
        s.info[phases.TRANSPORT_KEY] = Counting(services.redis, counting_pipeline)
    assert len(calls) == 1
    assert services.redis.hexists(IN_TRANSPORT, str(otp.id))  # the OTP is a job at once
    assert services.redis.lrange(READY["reply"], 0, -1) == [str(reply.id).encode()]
    assert services.redis.get("tikabot:conv:+919830000001") == b'{"flow": "dose"}'


class Counting:
    """The process's Redis client, with its pipelines counted."""
    def __init__(self, redis, pipeline):
        self._redis, self.pipeline = redis, pipeline

    def __getattr__(self, name):
        return getattr(self._redis, name)


def test_when_redis_cannot_take_the_hand_off_the_commit_stands_and_the_relay_finds_the_message(services):
    dead = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)  # nothing listens there
    with services.transaction() as s:
        row = message(s, "m-1", "otp")
        s.info[phases.TRANSPORT_KEY] = dead
    dead.close()
    assert committed_messages(services) == 1
    assert not services.redis.hexists(IN_TRANSPORT, str(row.id))
    found = Relay(services, SendSettings()).run_once(now=clock.now() + timedelta(seconds=GRACE_S + 1), force=True)
    assert found.requeued_ids == [row.id]
    assert services.redis.hexists(IN_TRANSPORT, str(row.id))


def test_a_session_without_a_transaction_unit_runs_pre_commit_work_at_once_and_hands_off_nothing(services):
    with services.sessions() as s, s.begin():
        row = message(s, "m-1")
        assert phases.attach(s, guards.SAVE_STATES, [("+919830000001", {"flow": "dose"})]) is False
    assert committed_messages(services) == 1 and row.id is not None
    assert services.redis.llen(READY["default"]) == 0  # the relay finds it
    assert services.redis.get("tikabot:conv:+919830000001") is None


def test_a_hook_must_have_a_documented_name_and_phase():
    with pytest.raises(ValueError):
        phases.Hook("send everything", phases.POST, lambda redis, pipe, items: None)
    with pytest.raises(ValueError):
        phases.Hook("queue sends", phases.PRE, lambda session, items: None)
