"""A status report speaks for what its route carried, told by the hand-off note when the row does
not name its carrier yet: a gateway phone's delivery report can outrun the send's own record, while
a reply's via still names the route its message came in on."""
from __future__ import annotations

from tikabot.core.clock import now
from tikabot.core import handoffs
from tikabot.queue.callbacks import apply_report
from tikabot.outbox.messages import add_message
from tikabot.core.sending import StatusReport
from tikabot.queue.settings import SendSettings
from tikabot.store.models import OutboundMessage


def reply_handed_to_the_phone(services) -> int:
    """A reply to an SMS that came in by Exotel, handed to the gateway phone; the send not recorded yet."""
    with services.transaction() as session:
        row = add_message(session, key="reply-1", recipient="+919830012345", template="staff.help",
                          language="en", priority="reply", channel="sms")
        row.via, row.status, row.attempts, row.provider_id = "exotel", "accepted", 1, f"tb-{row.id}-1"
        message_id = row.id
    handoffs.note(services.redis, message_id, 1, "android:ranaghat")
    return message_id


def report(services, message_id: int, via: str, status: str = "delivered") -> str:
    with services.transaction() as session:
        return apply_report(session, StatusReport(f"tb-{message_id}-1", status, None, message_id, 1, via=via),
                            now=now(), settings=SendSettings(), redis=services.redis)


def test_the_phone_an_attempt_was_handed_to_settles_it_before_the_send_is_recorded(services):
    message_id = reply_handed_to_the_phone(services)
    assert report(services, message_id, "android:ranaghat") == "delivered"
    with services.sessions() as session:
        assert session.get(OutboundMessage, message_id).status == "delivered"


def test_another_phone_or_route_still_cannot(services):
    message_id = reply_handed_to_the_phone(services)
    assert report(services, message_id, "android:kalyani") == "unknown message"
    assert report(services, message_id, "twilio", "undelivered") == "unknown message"
    with services.sessions() as session:
        assert session.get(OutboundMessage, message_id).status == "accepted"
