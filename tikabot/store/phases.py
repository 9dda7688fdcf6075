"""Named commit phases: what a transaction does just before its COMMIT and just after it.

Mailroom's `core/runner/hooks.go` in Python. Code inside a transaction attaches items (rows to
write, ids to queue, states to save) to a named `Hook`; `store/db.py transaction()` opens one
`Unit` per transaction, and the unit runs the hooks in one place:

1. pre-commit hooks, inside the transaction, in the order of PRE_COMMIT below (an error rolls the
   whole transaction back, nothing of it remains and no post-commit hook runs);
2. COMMIT;
3. post-commit hooks, in the order of POST_COMMIT. They write to Redis: each adds its commands to
   one pipeline that the unit sends once, after all of them (one round trip per commit). Each is
   isolated: one that fails is logged with its name and its commands are dropped, the others go
   out. If Redis cannot be reached, nothing is lost: the database is the record, and the outbox
   relay (queue/relay.py) finds every pending message that never reached Redis.

Nothing runs after a rollback. A session that commits in chunks (an import) opens a unit itself and
commits with `commit()`. A session with no unit at all runs its pre-commit items at once and drops
its post-commit items (the relay finds the messages). A process
without Redis (Services.build binds it as the post-commit transport) has no post-commit phase.

Every named hook in the product, in the order it runs:

pre-commit (inside the transaction, before COMMIT)
- "mark appointments done" (runner/apply.py): the appointments of the doses a round recorded, set
  done in one executemany for the round (inside `batched_appointments`).
- "write outbox rows" (outbox/messages.py): the round's replies and confirmations, written as one
  multi-row INSERT ... ON CONFLICT DO NOTHING (inside `outbox.batched`; `flush_batch` writes them
  earlier for a statement that must read the outbox).
- "mark inbox messages done" (runner/run.py, with inbox/store.py `finish`): the inbound messages of
  the round marked done if this worker's lease still holds them; if not, the round rolls back
  (LeaseLost) and the worker that took them over applies them.

post-commit (after COMMIT, one Redis round trip for all of them)
- "save conversation states" (runner/guards.py): each sender's new conversation state (a guided
  DOSE or VERIFY in progress) set or deleted.
- "queue sends" (outbox/messages.py, outbox/transport.py): every outbox message the transaction added
  or re-queued that is due now: OTPs as RQ send jobs at once, the rest pushed onto their ready
  lists (reply, default, bulk), which a worker turns into jobs.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from sqlalchemy.orm import Session

PRE, POST = "pre", "post"
PRE_COMMIT = ("mark appointments done", "write outbox rows", "mark inbox messages done")
POST_COMMIT = ("save conversation states", "queue sends")
ORDER = {PRE: PRE_COMMIT, POST: POST_COMMIT}
UNIT_KEY = "tikabot.commit_unit"  # session.info: the open transaction's Unit
TRANSPORT_KEY = "tikabot.transport"  # session.info: the process's Redis client (Services.build)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Hook:
    """A named step of a commit. pre: run(session, items) inside the transaction; post:
    run(redis, pipeline, items) after the commit, adding commands to the shared pipeline."""
    name: str
    phase: str
    run: Callable[..., Any]

    def __post_init__(self) -> None:
        if self.name not in ORDER.get(self.phase, ()):
            raise ValueError(f"{self.phase}-commit hook {self.name!r} is not in the documented order")


class Unit:
    """The items one transaction attached to each hook, and the running of them."""

    def __init__(self, session: Session):
        self.session = session
        self._hooks: dict[str, Hook] = {}
        self._items: dict[str, list] = {}

    def attach(self, hook: Hook, items: Iterable) -> None:
        known = self._hooks.setdefault(hook.name, hook)
        if known is not hook and known != hook:
            raise ValueError(f"two hooks named {hook.name!r} in one transaction")
        self._items.setdefault(hook.name, []).extend(items)

    def items(self, hook: Hook) -> list:
        """What is attached to the hook so far (the list itself)."""
        return self._items.get(hook.name, [])

    def flush(self, hook: Hook) -> None:
        """Run a pre-commit hook now on what it holds (a statement is about to read what it writes)."""
        items = self._items.pop(hook.name, None)
        if items:
            hook.run(self.session, items)

    def before_commit(self) -> None:
        for name in PRE_COMMIT:
            hook = self._hooks.get(name)
            if hook is not None:
                self.flush(hook)

    def after_commit(self, redis) -> None:
        post = [(self._hooks[name], self._items.pop(name)) for name in POST_COMMIT
                if self._items.get(name) and name in self._hooks]
        if not post or redis is None:
            return  # no transport in this process: the relay finds the messages
        ran = []
        with redis.pipeline() as pipe:
            for hook, items in post:
                mark = len(pipe.command_stack)
                try:
                    hook.run(redis, pipe, items)
                    ran.append(hook.name)
                except Exception:
                    del pipe.command_stack[mark:]
                    log.exception("post-commit hook %r failed on %d items; the others go on", hook.name, len(items))
            if not pipe.command_stack:
                return
            try:
                pipe.execute()
            except Exception as exc:  # Redis down: the relay re-queues from the database
                log.warning("post-commit hooks %s could not reach Redis (%s); the relay will find the messages",
                            ", ".join(repr(n) for n in ran), type(exc).__name__)


def unit(session: Session) -> Unit | None:
    return session.info.get(UNIT_KEY)


def attach(session: Session, hook: Hook, items: Iterable) -> bool:
    """Attach items to the hook in the session's transaction. Without a unit, a pre-commit hook runs
    at once and a post-commit hook's items are dropped (the relay finds the messages); False then."""
    current = unit(session)
    if current is not None:
        current.attach(hook, items)
        return True
    if hook.phase == PRE:
        items = list(items)
        if items:
            hook.run(session, items)
    return False


def flush(session: Session, hook: Hook) -> None:
    current = unit(session)
    if current is not None:
        current.flush(hook)


def open_unit(session: Session) -> Unit:
    if unit(session) is not None:
        raise RuntimeError("this session already has a transaction open")
    session.info[UNIT_KEY] = opened = Unit(session)
    return opened


def close_unit(session: Session) -> None:
    session.info.pop(UNIT_KEY, None)


def commit(session: Session) -> None:
    """COMMIT a session that commits more than once (an import, chunk by chunk) through its unit:
    the unit's pre-commit hooks, COMMIT, its post-commit hooks; a fresh unit for the next chunk.
    A session without a unit simply commits."""
    current = unit(session)
    if current is None:
        session.commit()
        return
    current.before_commit()
    session.commit()
    session.info[UNIT_KEY] = Unit(session)
    current.after_commit(session.info.get(TRANSPORT_KEY))
