"""Status callbacks: signed, in order, carrying delivery error codes, retried then dropped."""

from __future__ import annotations

from twilio.request_validator import RequestValidator

from tests.support import wait_for
from tests.support.worlds.simulator import AUTH_TOKEN, RECIPIENT, SENDER

validator = RequestValidator(AUTH_TOKEN)


def send(twilio, receiver):
    return twilio.messages.create(to=RECIPIENT, from_=SENDER, body="Dose 2 tomorrow",
                                  status_callback=receiver.url)


def statuses(received):
    return [r["params"]["MessageStatus"] for r in received]


def test_sent_then_delivered_and_signed(twilio, sim, receiver):
    message = send(twilio, receiver)
    received = receiver.wait_for(2)
    assert statuses(received) == ["sent", "delivered"]
    for callback in received:
        params = callback["params"]
        assert params["MessageSid"] == params["SmsSid"] == message.sid
        assert params["To"] == RECIPIENT and params["From"] == SENDER
        assert params["ApiVersion"] == "2010-04-01"
        assert "ErrorCode" not in params
        assert validator.validate(receiver.url, params, callback["signature"])
    assert not validator.validate(receiver.url, {**params, "MessageStatus": "read"},
                                  received[-1]["signature"])
    assert twilio.messages(message.sid).fetch().status == "delivered"


def test_delivery_error_arrives_as_undelivered(twilio, sim, receiver):
    sim.sim.configure(recipient_delivery_errors={RECIPIENT: 30003})
    message = send(twilio, receiver)
    received = receiver.wait_for(2)
    assert statuses(received) == ["sent", "undelivered"]
    assert received[-1]["params"]["ErrorCode"] == "30003"
    assert validator.validate(receiver.url, received[-1]["params"], received[-1]["signature"])
    fetched = twilio.messages(message.sid).fetch()
    assert (fetched.status, fetched.error_code) == ("undelivered", 30003)


def test_queue_overflow_arrives_as_failed(twilio, sim, receiver):
    sim.sim.configure(delivery_errors={"30001": 1.0})
    send(twilio, receiver)
    received = receiver.wait_for(1)
    # Every callback the simulator planned for it has run: nothing more can come.
    assert wait_for(lambda: not sim.sim.callbacks.tasks, 15)
    assert statuses(receiver.received) == ["failed"]
    assert received[0]["params"]["ErrorCode"] == "30001"


def test_failed_callback_is_retried(twilio, sim, receiver):
    receiver.fail_first = 1
    send(twilio, receiver)
    received = receiver.wait_for(3)
    assert [r["failed"] for r in received] == [True, False, False]
    assert statuses(received) == ["sent", "sent", "delivered"]


def test_callbacks_are_dropped_after_retries(twilio, sim, receiver):
    receiver.fail_first = 100
    sim.sim.configure(callback_retries=1)
    send(twilio, receiver)
    receiver.wait_for(4)
    wait_for(lambda: len(sim.sim.callback_log()) >= 2, 15)
    log = sim.sim.callback_log()
    assert [(e["status"], e["outcome"], e["attempts"]) for e in log] == [
        ("sent", "dropped", 2), ("delivered", "dropped", 2)]
