"""What an appointment's status means, in one place (CONTRACT §6: YES, NO; §7: re-imports).

booked -> confirmed (YES) or cancelled (NO) by the person; done when the dose is recorded (back to
booked if it is undone); missed when the day passed without a dose (a new date re-books it).
"""
from __future__ import annotations

BOOKED, CONFIRMED, CANCELLED, DONE, MISSED = "booked", "confirmed", "cancelled", "done", "missed"
ACTIVE = (BOOKED, CONFIRMED)  # still expects the person: reminders go, YES/NO apply, a dose makes it done
