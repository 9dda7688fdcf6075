"""accept(services, message): the one call every inbound webhook makes once it has verified and
translated a request.

SEAM, being replaced by the accept-first inbox: today it still runs the whole message through the
runner inside the request and returns the reply text for channels that answer in the response
(Twilio's TwiML). The inbox keeps this signature: it makes the message durable (an INSERT, or the
spool), returns None, and workers process it and send replies through the outbox on the route the
message came in on (`message.via`).
"""
from __future__ import annotations

from tikabot.runner.guards import Busy
from tikabot.runner.message import InboundMessage


class Unavailable(RuntimeError):
    """The message could not be kept anywhere: the webhook answers 503 so the provider retries."""


def accept(services, message: InboundMessage) -> str | None:
    from tikabot.runner import handle  # the seam: the inbox will not call the runner here

    try:
        return handle(services, message).reply
    except Busy as exc:
        raise Unavailable(str(exc)) from exc
