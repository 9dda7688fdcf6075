"""Many vaccinators at once, and replays: what the runner's two phases must still guarantee."""
from __future__ import annotations

import threading

from sqlalchemy import func, select

from tests.support.worlds.runner import NOW, VACCINATOR
from tikabot.core.message import InboundMessage
from tikabot.inbox.now import handle
from tikabot.store.models import Beneficiary, Dose, InboundMessage as InboundRow, OutboundMessage, Site, Staff
from tikabot.runner.guards import RATE_LIMITS


def test_vaccinators_reporting_at_the_same_time_each_get_every_dose_recorded_once(world):
    with world.transaction() as s:
        site = s.scalar(select(Site).where(Site.code == "KAL"))
        staff = [Staff(phone=f"+91983100000{i}", name=f"V{i}", role="vaccinator", site_id=site.id) for i in range(4)]
        people = [Beneficiary(ref=f"7000000{n:03d}", name=f"P{n}", phone=f"+91983200{n:04d}", language="en",
                              site_id=site.id) for n in range(40)]
        s.add_all(staff + people)
    replies: list[str] = []

    def vaccinator(i: int) -> None:
        for n in range(i, 40, 4):  # each beneficiary reported twice: by this vaccinator and by the next one
            for who in (i, (i + 1) % 4):
                message = InboundMessage(channel="sms", provider_id=f"SM-{who}-{n}-{i}",
                                         sender=f"+91983100000{who}", text=f"DOSE 7000000{n:03d} CS L1")
                replies.append(handle(world, message, now=NOW).reply)

    threads = [threading.Thread(target=vaccinator, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    recorded = [r for r in replies if r.startswith("Recorded:")]
    assert len(recorded) == 40 and len(replies) == 80
    assert all(r.startswith("Already recorded:") for r in replies if not r.startswith("Recorded:"))
    with world.transaction() as s:
        doses = s.scalar(select(func.count()).select_from(Dose).where(Dose.source == "sms"))
        confirmations = s.scalar(select(func.count()).select_from(OutboundMessage)
                                 .where(OutboundMessage.template == "dose.confirmation"))
        handled = s.scalar(select(func.count()).select_from(InboundRow))
    assert (doses, confirmations, handled) == (40, 40, 80)
    counts = sorted(int(r.rsplit("Today: ", 1)[1].rstrip(".")) for r in recorded)
    assert counts == list(range(1, 41))  # "Today: N" counted under the write lock: each N once


def test_a_provider_retry_gets_the_same_reply_and_does_not_count_toward_the_rate_limit(say):
    for _ in range(RATE_LIMITS["staff"][0] - 2):
        say(VACCINATOR, "HELP")
    first = say(VACCINATOR, "DOSE 12345678 CS L1", sid="SMretried")
    for _ in range(5):
        assert say(VACCINATOR, "DOSE 12345678 CS L1", sid="SMretried") == first
    assert say(VACCINATOR, "COUNT") == "Kalyani PHC today: dose 1: 1, dose 2: 0, total 1. Due 1, remaining 0."
    assert say(VACCINATOR, "COUNT") == "Too many messages. Please wait a few minutes."
