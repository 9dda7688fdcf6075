"""An outbox message that can still be withdrawn: pending, never tried, never handed to the
provider. Reminders (reminders/cancel.py) and dose confirmations (runner/confirm.py) withdraw by it.

A withdrawn row stays in the outbox with status `canceled` (the outbox's terminal word, spelt as
Twilio does: core/statuses.py)."""
from __future__ import annotations

from sqlalchemy import func

from tikabot.store.models import OutboundMessage

CANCELLED = "canceled"
NOT_YET_SENT = ("pending",)  # with no attempt made: safe to withdraw (the sender claims only pending rows)
# "Never handed to the provider", written so that no index is used for it: as `provider_id IS NULL`
# SQLite reads it through the unique provider_id index, i.e. walks every unsent message in the
# outbox instead of the few rows of one appointment or person.
NO_PROVIDER_ID = func.coalesce(OutboundMessage.provider_id, "") == ""
NEVER_SENT = (OutboundMessage.status.in_(NOT_YET_SENT), OutboundMessage.attempts == 0, NO_PROVIDER_ID)
