"""The inbox worker: order per sender, leases a killed worker leaves, limits that never drop meaning."""
from __future__ import annotations

from sqlalchemy import func, select

from tests.support import wait_for
from tests.support.worlds.runner import AMIT_PHONE, BN_STAFF, HI_STAFF, RAHIMA_PHONE, VACCINATOR
from tikabot.core import clock
from tikabot.core.message import InboundMessage
from tikabot.inbox.now import handle
from tikabot.inbox import store
from tikabot.inbox.worker import turn
from tikabot.runner.run import process
from tikabot.runner.run import LeaseLost
from tikabot.store.models import Appointment, Beneficiary, Dose, InboundMessage as InboundRow, OutboundMessage


def keep(services, sender: str, text: str, sid: str) -> None:
    with services.engine.begin() as conn:
        store.keep(conn, [store.row(InboundMessage(channel="sms", provider_id=sid, sender=sender, text=text),
                                    clock.now())])


def replies(services, to: str) -> list[str]:
    with services.sessions() as s:
        return list(s.scalars(select(OutboundMessage.body).where(OutboundMessage.priority == "reply",
                                                                 OutboundMessage.recipient == to)
                              .order_by(OutboundMessage.id)))


def doses(services) -> int:
    with services.sessions() as s:
        return s.scalar(select(func.count()).select_from(Dose).where(Dose.source == "sms", Dose.voided.is_(False)))


def test_a_sender_held_by_one_worker_is_skipped_by_every_other(world):
    keep(world, VACCINATOR, "START COVISHIELD L9", "SMa1")
    keep(world, BN_STAFF, "COUNT", "SMb1")
    keep(world, VACCINATOR, "DOSE 12345678", "SMa2")
    keep(world, VACCINATOR, "COUNT", "SMa3")
    first = store.claim(world.engine, clock.now(), 30, limit=1)  # one worker takes the vaccinator's first
    second = store.claim(world.engine, clock.now(), 30, limit=10)  # another: never the vaccinator's later ones
    assert [h.message.provider_id for h in first] == ["SMa1"]
    assert [h.message.provider_id for h in second] == ["SMb1"]
    process(world, first, pre_commit=store.finish)
    process(world, second, pre_commit=store.finish)
    third = store.claim(world.engine, clock.now(), 30, limit=10)
    assert [h.message.provider_id for h in third] == ["SMa2", "SMa3"]  # now the rest, in the order sent
    process(world, third, pre_commit=store.finish)
    said = replies(world, VACCINATOR)
    assert said[0].startswith("Session open") and said[1].startswith("Recorded: 12345678")
    assert "dose 1: 1" in said[2]


def test_many_senders_share_a_transaction_and_each_sender_keeps_its_order(world):
    for n in range(3):
        keep(world, VACCINATOR, ["START COVISHIELD L9", "DOSE 12345678", "UNDO"][n], f"SMv{n}")
        keep(world, BN_STAFF, ["COUNT", "COUNT", "COUNT"][n], f"SMs{n}")
        keep(world, AMIT_PHONE, ["YES", "kab hai?", "NO"][n], f"SMm{n}")
    assert turn(world, lease=30) == 9
    said = replies(world, VACCINATOR)
    assert [line.split(":")[0] for line in said] == ["Session open", "Recorded", "Removed from the record"]
    assert doses(world) == 0  # recorded, then undone, in that order
    assert len(replies(world, AMIT_PHONE)) == len(replies(world, BN_STAFF)) == 3


def test_a_worker_killed_mid_message_leaves_it_to_another_once_its_lease_runs_out(world):
    keep(world, VACCINATOR, "START COVISHIELD L9", "SMk1")
    keep(world, VACCINATOR, "DOSE 12345678", "SMk2")
    killed = store.claim(world.engine, clock.now(), 0.3, limit=10)  # claimed, then SIGKILL: nothing committed
    assert len(killed) == 2
    assert turn(world, lease=30) == 0  # the lease still holds: nobody else takes them
    assert wait_for(lambda: turn(world, lease=30) == 2)
    assert doses(world) == 1 and len(replies(world, VACCINATOR)) == 2
    try:  # the slow worker comes back: its lease is gone, so nothing it does is kept
        process(world, killed, pre_commit=store.finish)
        raise AssertionError("a lost lease must roll the round back")
    except LeaseLost:
        pass
    assert doses(world) == 1 and len(replies(world, VACCINATOR)) == 2


def test_a_public_senders_stop_over_the_rate_limit_is_applied_with_no_reply(say, world):
    for n in range(10):
        say(RAHIMA_PHONE, "kab hai?")
    assert say(RAHIMA_PHONE, "STOP") is None  # the 11th message in a minute: no reply...
    with world.sessions() as s:  # ...but the opt-out is applied
        assert s.scalar(select(Beneficiary.opted_out).where(Beneficiary.phone == RAHIMA_PHONE)) is True


def test_a_staff_report_over_the_rate_limit_is_recorded_and_said_once(say, world):
    say(VACCINATOR, "START COVISHIELD L9")
    world.redis.set(f"tikabot:rate:{VACCINATOR}", 300, ex=60)  # a runaway loop's worth this minute
    assert say(VACCINATOR, "DOSE 12345678") == "Too many messages. Please wait a few minutes."
    assert say(VACCINATOR, "DOSE 23456789") is None
    assert doses(world) == 2


def test_lang_and_yes_over_the_limit_are_applied(say, world):
    world.redis.set(f"tikabot:rate:{AMIT_PHONE}", 50, ex=60)
    assert say(AMIT_PHONE, "LANG BN") is None
    assert say(AMIT_PHONE, "YES") is None
    with world.sessions() as s:
        amit = s.scalar(select(Beneficiary).where(Beneficiary.phone == AMIT_PHONE))
        assert amit.language == "bn"
        assert s.scalar(select(Appointment.status).where(Appointment.beneficiary_id == amit.id)) == "confirmed"


def test_handle_twice_with_one_provider_id_answers_the_stored_reply(world):
    message = InboundMessage(channel="sms", provider_id="SMtwice", sender=VACCINATOR, text="START COVISHIELD L9")
    first = handle(world, message)
    again = handle(world, message)
    assert again.duplicate and again.reply == first.reply
    with world.sessions() as s:
        assert s.scalar(select(func.count()).select_from(InboundRow)) == 1


def test_the_reply_goes_back_on_the_channel_and_route_it_came_in_on_in_the_reply_lane(world):
    message = InboundMessage(channel="sms", provider_id="SMvia", sender=VACCINATOR, text="START COVISHIELD L9",
                             via="android:phone-1")
    handle(world, message)
    with world.sessions() as s:
        row = s.scalar(select(OutboundMessage).where(OutboundMessage.idempotency_key == "reply-SMvia"))
    assert (row.channel, row.via, row.priority, row.recipient) == ("sms", "android:phone-1", "reply", VACCINATOR)
    assert row.template.startswith("staff.")  # the reply kind, for routing


def test_the_sites_count_in_one_round_includes_the_reports_before_it_and_an_undo(world):
    """One round (one transaction) holds reports from several vaccinators of a site: each reply
    counts the doses recorded before it in the round, and a COUNT after an UNDO leaves the voided
    dose out."""
    keep(world, VACCINATOR, "START COVISHIELD L9", "SMt0")
    assert turn(world, lease=30) == 1
    keep(world, VACCINATOR, "DOSE 12345678", "SMt1")
    keep(world, BN_STAFF, "DOSE 23456789", "SMt2")
    keep(world, HI_STAFF, "COUNT", "SMt3")
    keep(world, VACCINATOR, "UNDO", "SMt4")
    keep(world, BN_STAFF, "COUNT", "SMt5")
    held = store.claim(world.engine, clock.now(), 30, limit=10)
    process(world, held, pre_commit=store.finish)
    assert replies(world, VACCINATOR)[1].endswith("Today: 1.")
    assert replies(world, BN_STAFF)[0].endswith("আজ মোট: ২।")  # the site's second dose of the round
    assert replies(world, HI_STAFF)[0].startswith("Kalyani PHC, आज: पहली डोज़ 2, दूसरी डोज़ 0, कुल 2।")
    assert doses(world) == 1  # the vaccinator's dose undone, in the next round
    assert replies(world, BN_STAFF)[1].startswith("Kalyani PHC, আজ: প্রথম ডোজ ১, দ্বিতীয় ডোজ ০, মোট ১।")


def test_no_reply_is_queued_to_an_operators_alphanumeric_sender_and_the_reason_is_kept(say, world):
    from tikabot.store.models import AuditLog

    assert say("MTN", "Your data pack expires today. Dial *121#") is None
    assert say("VM-AIRTEL", "STOP") is None
    with world.sessions() as s:
        assert s.scalar(select(func.count()).select_from(OutboundMessage)
                        .where(OutboundMessage.recipient.in_(["MTN", "VM-AIRTEL"]))) == 0
        why = s.scalars(select(AuditLog).where(AuditLog.action == "reply.withheld").order_by(AuditLog.id)).all()
    assert [(a.actor, a.detail["reason"]) for a in why] == [("MTN", "sender_not_a_phone"),
                                                          ("VM-AIRTEL", "sender_not_a_phone")]
    assert say(RAHIMA_PHONE, "kab hai?") is not None  # a phone still gets its answer
