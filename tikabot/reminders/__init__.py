"""Appointment messages and reminders (issue 5).

    plan(session, now, config) -> counts        the planner; run it as often as you like
    cancel_pending(session, appointment_id=, beneficiary_id=, reason=)   on NO / STOP
    withdraw_after_dose(conn, beneficiary_id, dose_number)                in the dose's transaction
    announce_booking(session, appointment, code) the booking notice with its new security code (called by the appointments import)
    tikabot.tasks.reminders.run_planner           the RQ job
"""
from tikabot.reminders.booking import announce_booking
from tikabot.reminders.cancel import cancel_pending, withdraw_after_dose
from tikabot.reminders.doses import confirm_dose
from tikabot.reminders.planner import plan
from tikabot.reminders.policy import Policy

__all__ = ["Policy", "announce_booking", "cancel_pending", "confirm_dose", "plan", "withdraw_after_dose"]
