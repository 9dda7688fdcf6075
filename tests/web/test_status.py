"""POST /sms/status: signed with Twilio's algorithm; statuses only move forward."""
from __future__ import annotations

import pytest

from tests.support.signing import twilio_headers, twilio_post
from tikabot.core import handoffs
from tikabot.outbox.messages import add_message
from tikabot.store.models import OutboundMessage


def post_status(client, params, query="", **signing):
    return twilio_post(client, "/sms/status" + (f"?{query}" if query else ""), params, **signing)


@pytest.fixture
def accepted(app):
    services = app.extensions["tikabot"]
    with services.transaction() as session:
        message = add_message(session, key="k", recipient="+919830012345", template="otp.code",
                              params={"code": "123456", "minutes": 10})
        message.status, message.provider_id, message.attempts = "accepted", "SM" + "a" * 32, 1
    return services, message.id


def status_of(services, message_id):
    with services.sessions() as session:
        return session.get(OutboundMessage, message_id)


def report(status, error=None):
    params = {"MessageSid": "SM" + "a" * 32, "MessageStatus": status, "AccountSid": "AC" + "1" * 32}
    if error:
        params["ErrorCode"] = str(error)
    return params


def test_delivered_then_late_sent_stays_delivered(client, accepted):
    services, message_id = accepted
    assert post_status(client, report("delivered")).status_code == 204
    assert post_status(client, report("sent")).status_code == 204
    stored = status_of(services, message_id)
    assert stored.status == "delivered" and stored.delivered_at is not None


def test_sent_moves_accepted_forward(client, accepted):
    services, message_id = accepted
    post_status(client, report("sent"))
    assert status_of(services, message_id).status == "sent"


def test_mis_signed_callback_gets_403_and_changes_nothing(client, accepted):
    services, message_id = accepted
    assert post_status(client, report("delivered"), token="wrong-token").status_code == 403
    assert client.post("/sms/status", data=report("delivered")).status_code == 403
    assert status_of(services, message_id).status == "accepted"


def test_a_value_added_to_a_signed_field_is_refused(client, accepted):
    """Twilio signs every value of a field: one appended after signing is refused, not ignored."""
    from werkzeug.datastructures import MultiDict

    services, message_id = accepted
    params = report("delivered")
    headers = twilio_headers("/sms/status", params)
    assert client.post("/sms/status", data=MultiDict(params), headers=headers).status_code == 204
    again = MultiDict([*params.items(), ("MessageStatus", "failed")])
    assert client.post("/sms/status", data=again, headers=headers).status_code == 403
    assert status_of(services, message_id).status == "delivered"


def test_signature_covers_our_query_string(client, accepted):
    services, message_id = accepted
    signed_for = twilio_headers(f"/sms/status?id={message_id}&attempt=1", report("delivered"))
    response = client.post(f"/sms/status?id={message_id}&attempt=2", data=report("delivered"), headers=signed_for)
    assert response.status_code == 403


def test_callback_names_the_message_when_the_sid_was_never_learnt(client, app):
    services = app.extensions["tikabot"]
    with services.transaction() as session:
        message = add_message(session, key="k2", recipient="+919830012345", template="otp.code",
                              params={"code": "123456", "minutes": 10})
        message.status, message.attempts = "sending", 1
    handoffs.note(services.redis, message.id, 1, "twilio")  # as the send job does before calling Twilio
    assert post_status(client, report("sent"), query=f"id={message.id}&attempt=1").status_code == 204
    stored = status_of(services, message.id)
    assert (stored.status, stored.provider_id) == ("sent", "SM" + "a" * 32)


def test_unknown_status_is_a_clear_400(client, accepted):
    response = post_status(client, report("exploded"))
    assert response.status_code == 400 and b"MessageStatus" in response.data


def test_permanent_error_fails_and_retryable_one_plans_a_retry(client, app, accepted):
    services, message_id = accepted
    post_status(client, report("undelivered", 30003))
    stored = status_of(services, message_id)
    assert stored.status == "pending" and stored.not_before is not None and stored.provider_id is None
    assert stored.last_error_code == "30003"
    with services.transaction() as session:
        session.get(OutboundMessage, message_id).provider_id = "SM" + "a" * 32
        session.get(OutboundMessage, message_id).status = "sent"
    post_status(client, report("failed", 30005))
    assert status_of(services, message_id).status == "failed"


def test_metrics_count_messages_by_channel_template_and_status(client, accepted):
    services, message_id = accepted
    post_status(client, report("delivered"))
    text = client.get("/metrics").get_data(as_text=True)
    assert 'tikabot_outbound_delivered_total{channel="sms",template="otp.code"} 1.0' in text
    assert 'tikabot_queue_depth{queue="bulk"}' in text


def test_metrics_show_messages_waiting_on_the_ready_lists(client, app):
    services = app.extensions["tikabot"]
    with services.transaction() as session:
        for i in range(3):
            add_message(session, key=f"c{i}", recipient=f"+91983001234{i}", template="dose.confirmation_final",
                        body=f"Dose recorded for person {i}.")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'tikabot_queue_ready_messages{queue="default"} 3.0' in text
    assert 'tikabot_queue_ready_messages{queue="bulk"} 0.0' in text


def test_twilio_report_cannot_settle_an_attempt_handed_to_another_route(client, app):
    """Our id and attempt are easy to guess: a report names an attempt only its own route was handed."""
    services = app.extensions["tikabot"]
    with services.transaction() as session:
        message = add_message(session, key="k3", recipient="+919830012345", template="otp.code",
                              params={"code": "123456", "minutes": 10})
        message.status, message.attempts = "sending", 1
    handoffs.note(services.redis, message.id, 1, "exotel")
    assert post_status(client, report("delivered"), query=f"id={message.id}&attempt=1").status_code == 204
    stored = status_of(services, message.id)
    assert (stored.status, stored.provider_id) == ("sending", None)
