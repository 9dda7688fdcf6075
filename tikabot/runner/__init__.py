"""The conversation runner: inbox messages in, effects and replies (outbox rows) out.

    from tikabot.core.message import Held

    from tikabot.runner.run import process
    results = process(services, held)  # messages an inbox worker claimed; replies are in the outbox

A channel handler (Twilio SMS, USSD, ...) only builds the InboundMessage and renders replies.
`apply.apply_effects` is the one place domain effects are written, for every channel.
"""
