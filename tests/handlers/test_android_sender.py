"""The Android gateway sender through the official client against the simulated phones: the exact
request a phone received, named errors, rotation between phones, and a phone that stops answering."""
from __future__ import annotations

import asyncio
import dataclasses
import time

import pytest
import redis as redis_lib
from sqlalchemy import select, update

from tests.support import wait_for
from tikabot.handlers import android_devices
from tikabot.handlers.android_gateway import AndroidSender
from tikabot.outbox.messages import add_message
from tikabot.core.sending import ACCOUNT, FAIL, RETRY, UNKNOWN, Outgoing, SendError
from tikabot.store.models import InboundMessage, OutboundMessage

PHONE = "+919830012345"
BODY = "আপনার টিকার সময়: ৫ জানুয়ারি, সকাল ৯টা–১১টা। কেন্দ্র: কল্যাণী প্রাথমিক স্বাস্থ্যকেন্দ্র।"


@dataclasses.dataclass(frozen=True)
class Routed(Outgoing):
    via: str = ""


def outgoing(message_id=7, attempt=1, via="", **kw) -> Routed:
    return Routed(id=message_id, attempt=attempt, channel="android", recipient=kw.pop("recipient", PHONE),
                  body=kw.pop("body", BODY), language="bn", priority="default", expires_at=None, via=via)


def run(config, *messages, method="send", since=None):
    """Send (or look up) each message with one sender, as a worker would; SendErrors are returned."""
    async def go():
        sender = AndroidSender(config, redis=redis_lib.Redis.from_url(config.redis_url))
        results = []
        try:
            for message in messages:
                try:
                    results.append(await (sender.send(message) if method == "send"
                                          else sender.find_existing(message, since)))
                except SendError as exc:
                    results.append(exc)
        finally:
            await sender.close()
        return results
    return asyncio.run(go())


def test_the_phone_receives_exactly_our_message(channel_config, sim):
    [accepted] = run(channel_config, outgoing())
    assert accepted.provider_id == "tb-7-1" and accepted.provider_status == "accepted"
    [sent] = sim.smsgate.view()
    assert {k: sent[k] for k in ("id", "to", "text", "sim_number", "ttl")} == {
        "id": "tb-7-1", "to": PHONE, "text": BODY, "sim_number": None, "ttl": None}
    assert sim.records.counts().get("twilio_requests") is None  # nothing went anywhere else


def test_same_attempt_twice_is_one_sms(channel_config, sim):
    first, again = run(channel_config, outgoing(via="android:ranaghat"), outgoing(via="android:ranaghat"))
    assert first.provider_id == again.provider_id == "tb-7-1"
    assert len(sim.smsgate.view()) == 1


@pytest.mark.parametrize("fault, name, action", [
    ("400", "gateway_bad_request", FAIL),
    ("401", "gateway_auth_refused", RETRY),
    ("404", "gateway_not_found", RETRY),
    ("429", "rate_limited", RETRY),
    ("500", "provider_error", UNKNOWN),
    ("503", "provider_error", UNKNOWN),
    ("timeout", "timeout", UNKNOWN),
])
def test_gateway_errors_are_named(channel_config, sim, fault, name, action):
    sim.configure(smsgate_next_faults=[fault])
    [error] = run(channel_config, outgoing(via="android:ranaghat"))
    assert isinstance(error, SendError)
    assert (error.kind.name, error.kind.action) == (name, action)
    assert action != ACCOUNT  # one phone's trouble never pauses every channel


def test_wrong_password_is_refused_and_counts_against_the_phone(channel_config, sim):
    phones = tuple(dataclasses.replace(p, password="wrong") if p.id == "ranaghat" else p
                   for p in channel_config.smsgate_phones)
    config = dataclasses.replace(channel_config, smsgate_phones=phones)
    [error] = run(config, outgoing(via="android:ranaghat"))
    assert error.kind.name == "gateway_auth_refused" and not sim.smsgate.view()
    [health] = android_devices.phone_health(redis_lib.Redis.from_url(config.redis_url), ["ranaghat"], time.time(), 900)
    assert health.fails == 1


def test_phones_take_turns(channel_config, sim):
    run(channel_config, *(outgoing(message_id=i) for i in range(1, 7)))
    used = [s["phone"] for s in sim.smsgate.view()]
    assert sorted(set(used)) == ["kalyani", "ranaghat"] and used.count("kalyani") == 3


def test_reply_goes_back_through_the_phone_it_came_in_on(channel_config, sim):
    run(channel_config, *(outgoing(message_id=i, via="android:kalyani") for i in range(1, 4)))
    assert {s["phone"] for s in sim.smsgate.view()} == {"kalyani"}


def test_a_phone_that_stops_answering_leaves_rotation(channel_config, sim):
    sim.configure(smsgate_offline=["ranaghat"])
    results = run(channel_config, *(outgoing(message_id=i, via="android:ranaghat") for i in range(1, 5)))
    assert [getattr(r, "kind", None) and r.kind.name for r in results[:3]] == ["timeout"] * 3
    assert results[3].provider_id == "tb-4-1"  # the fourth went through the other phone
    assert [s["phone"] for s in sim.smsgate.view()] == ["kalyani"]
    redis = redis_lib.Redis.from_url(channel_config.redis_url)
    [ranaghat, kalyani] = android_devices.phone_health(redis, ["ranaghat", "kalyani"], time.time(), 900)
    assert not ranaghat.healthy and "timeout" in ranaghat.reason and kalyani.healthy


def test_no_phone_in_rotation_is_a_slow_retry(channel_config, sim):
    redis = redis_lib.Redis.from_url(channel_config.redis_url)
    for phone in ("ranaghat", "kalyani"):
        android_devices.heard_from(redis, phone, time.time() - 3600)  # silent for an hour
    [error] = run(channel_config, outgoing())
    assert (error.kind.name, error.kind.action, error.kind.slow) == ("no_gateway_phone", RETRY, True)
    assert not sim.smsgate.view()


def test_a_sim_is_paced_to_its_rate(channel_config, sim):
    phones = tuple(dataclasses.replace(p, per_minute=6.0) for p in channel_config.smsgate_phones)
    config = dataclasses.replace(channel_config, smsgate_phones=phones)
    first, second = run(config, outgoing(message_id=1, via="android:ranaghat"),
                        outgoing(message_id=2, via="android:ranaghat"))
    assert first.provider_id == "tb-1-1"
    # 6 a minute: the next slot is 10 s away, longer than a sender holds a message: back to the queue
    assert second.kind.name == "gateway_busy" and second.wait_s > 5
    assert len(sim.smsgate.view()) == 1


def test_an_earlier_attempt_on_a_phone_is_found_not_resent(channel_config, sim):
    run(channel_config, outgoing(attempt=1))
    [found] = run(channel_config, outgoing(attempt=2), method="find")
    assert found.provider_id == "tb-7-1"
    [nothing] = run(channel_config, outgoing(message_id=8, attempt=2), method="find")
    assert nothing is None


def test_delivery_webhooks_from_the_phone_reach_the_outbox(live, simulator):
    services = live.app.extensions["tikabot"]
    with services.transaction() as s:
        row = add_message(s, key="g1", recipient=PHONE, template="otp.code", params={"code": "482913", "minutes": 10},
                          language="en", channel="android")
        row.attempts, row.status = 1, "sending"
        message_id = row.id
    [accepted] = run(live.config, outgoing(message_id=message_id, body="Code 482913"))
    with services.transaction() as s:  # as the send job records it: never over a report already in
        s.execute(update(OutboundMessage).where(OutboundMessage.id == message_id, OutboundMessage.status == "sending")
                  .values(provider_id=accepted.provider_id, status="accepted"))

    def status():
        with services.sessions() as s:
            return s.get(OutboundMessage, message_id).status
    assert wait_for(lambda: status() == "delivered")
    # both reports were taken (the simulator's module-wide log may also hold an earlier test's late ones)
    assert wait_for(lambda: {"sms:sent", "sms:delivered"} <= {
        w["event"] for w in simulator.sim.smsgate.webhooks if w["status"] is not None and w["status"] < 300})


def test_failure_webhook_for_a_number_the_phone_cannot_reach(live, simulator):
    simulator.sim.configure(smsgate_failures={PHONE: "RESULT_ERROR_FDN_CHECK_FAILURE (Failed because FDN is enabled)"})
    services = live.app.extensions["tikabot"]
    with services.transaction() as s:
        row = add_message(s, key="g2", recipient=PHONE, template="otp.code", params={"code": "482913", "minutes": 10},
                          language="en", channel="android")
        row.attempts, row.status = 1, "sending"
        message_id = row.id
    run(live.config, outgoing(message_id=message_id, body="Code 482913"))

    def row_now():
        with services.sessions() as s:
            found = s.get(OutboundMessage, message_id)
            return found.status, found.last_error_code
    # the report names our id and attempt, so it links the message even before we stored the id
    assert wait_for(lambda: row_now() == ("failed", "RESULT_ERROR_FDN_CHECK_FAILURE"))


def test_an_sms_the_phone_receives_reaches_the_inbox(live, simulator):
    import json
    import urllib.request

    request = urllib.request.Request(f"{simulator.url}/_sim/smsgate/kalyani/receive", method="POST",
                                     data=json.dumps({"from": "+919830011111", "text": "হ্যাঁ"}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert json.loads(answer.read())["status"] == 200
    services = live.app.extensions["tikabot"]
    with services.sessions() as s:
        [row] = s.scalars(select(InboundMessage))
    assert (row.sender, row.body) == ("+919830011111", "হ্যাঁ") and row.provider_id.startswith("sg-")
    [health] = android_devices.phone_health(services.redis, ["kalyani"], time.time(), 900)
    assert health.seen_at is not None


def test_a_stale_phone_is_out_until_it_pings(live, simulator):
    import json
    import urllib.request

    services = live.app.extensions["tikabot"]
    android_devices.heard_from(services.redis, "ranaghat", time.time() - 3600)
    assert android_devices.healthy_phones(services.redis, ["ranaghat", "kalyani"], time.time(), 900) == ["kalyani"]
    request = urllib.request.Request(f"{simulator.url}/_sim/smsgate/ranaghat/ping", method="POST")
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert json.loads(answer.read())["status"] == 204
    assert android_devices.healthy_phones(services.redis, ["ranaghat", "kalyani"], time.time(), 900) == [
        "ranaghat", "kalyani"]


def test_phones_ping_on_their_own_and_an_offline_one_falls_silent(live, simulator):
    services = live.app.extensions["tikabot"]
    simulator.sim.configure(smsgate_ping_interval_s=0.1, smsgate_offline=["ranaghat"])
    try:
        assert wait_for(lambda: android_devices.phone_health(services.redis, ["kalyani"], time.time(), 900)[0].seen_at)
        pings = [w["phone"] for w in simulator.sim.smsgate.webhooks if w["event"] == "system:ping"]
        assert "ranaghat" not in pings
        [ranaghat] = android_devices.phone_health(services.redis, ["ranaghat"], time.time(), 900)
        assert ranaghat.seen_at is None
    finally:
        simulator.sim.configure(smsgate_ping_interval_s=0.0)


def probe(config) -> bool:
    async def go():
        sender = AndroidSender(config, redis=redis_lib.Redis.from_url(config.redis_url))
        try:
            return await sender.probe()
        finally:
            await sender.close()
    return asyncio.run(go())


def test_the_probe_asks_each_phone_if_it_answers_sends_nothing_and_puts_an_answering_phone_back(
        channel_config, sim):
    """Route health's probe of a recovering android route (queue/routes/send.py probe_recovering):
    GET /health on every phone. Both switched off: not back. One on again: back, and that phone is
    in rotation again though its sends failed before."""
    sim.configure(smsgate_offline=["ranaghat", "kalyani"])
    redis = redis_lib.Redis.from_url(channel_config.redis_url)
    for _ in range(3):
        android_devices.send_failed(redis, "ranaghat", "timeout")
    assert probe(channel_config) is False
    sim.configure(smsgate_offline=["kalyani"])
    assert probe(channel_config) is True
    ranaghat, kalyani = android_devices.phone_health(redis, ["ranaghat", "kalyani"], time.time(), 900)
    assert ranaghat.healthy and ranaghat.seen_at is not None and kalyani.seen_at is None
    assert sim.smsgate.view() == []  # nothing sent to anyone


def test_a_probe_with_a_wrong_password_is_not_back(channel_config, sim):
    phones = tuple(dataclasses.replace(p, password="wrong") for p in channel_config.smsgate_phones)
    assert probe(dataclasses.replace(channel_config, smsgate_phones=phones)) is False


def poll(config, services, later_s: float = 660.0) -> int:
    """The periodic status poll's gateway part, as if its quiet time had passed (`later_s` on)."""
    from datetime import timedelta

    from tikabot.core import clock
    from tikabot.queue.status_poll import poll_gateway

    async def go():
        sender = AndroidSender(config, redis=redis_lib.Redis.from_url(config.redis_url))
        try:
            return await poll_gateway(services, sender, now=clock.now() + timedelta(seconds=later_s))
        finally:
            await sender.close()
    return asyncio.run(go())


def handed_to_the_phone(services, channel_config) -> int:
    """A message the ranaghat phone took, sent, and reported on to a URL where nothing listens: its
    reports are lost (a phone switched off, or our app out of its reach, right after it sent)."""
    with services.transaction() as session:
        message = add_message(session, key="lost-report", recipient=PHONE, template="otp.code", language="en",
                              params={"code": "482913", "minutes": 10})
        session.flush()
        message_id = message.id
    [accepted] = run(channel_config, outgoing(message_id=message_id, via="android:ranaghat"))
    with services.transaction() as session:
        session.execute(update(OutboundMessage).where(OutboundMessage.id == message_id).values(
            status="sent", attempts=1, provider_id=accepted.provider_id, via="android:ranaghat"))
    return message_id


def status_of(services, message_id) -> str:
    with services.sessions() as session:
        return session.get(OutboundMessage, message_id).status


def test_a_report_the_phone_could_not_give_is_asked_of_it_later(channel_config, sim, services):
    message_id = handed_to_the_phone(services, channel_config)
    assert wait_for(lambda: sim.smsgate.view()[0]["state"] == "Delivered", 10)
    assert poll(channel_config, services, later_s=0) == 0  # within its quiet time: not asked
    assert status_of(services, message_id) == "sent"
    assert poll(channel_config, services) == 1
    assert status_of(services, message_id) == "delivered"
    assert poll(channel_config, services) == 0  # settled: not asked again


def test_a_phone_still_off_is_asked_again_at_the_next_pass(channel_config, sim, services):
    message_id = handed_to_the_phone(services, channel_config)
    sim.configure(smsgate_offline=["ranaghat"])
    assert poll(channel_config, services) == 0
    assert status_of(services, message_id) == "sent"
    sim.configure(smsgate_offline=[])
    assert wait_for(lambda: sim.smsgate.view()[0]["state"] == "Delivered", 10)
    assert poll(channel_config, services) == 1 and status_of(services, message_id) == "delivered"
