"""The conversation runner: channel-neutral inbound message in, reply out.

    from tikabot.runner import InboundMessage, handle
    result = handle(services, InboundMessage(channel="sms", provider_id=sid, sender="+91...", text="DOSE ..."))
    result.reply  # text to send back (None: send nothing)

A channel handler (Twilio SMS, USSD, ...) only builds the InboundMessage and renders the reply.
`apply.apply_effects` is the one place domain effects are written, for every channel.
"""
from tikabot.runner.message import InboundMessage, RunResult
from tikabot.runner.run import handle

__all__ = ["InboundMessage", "RunResult", "handle"]
