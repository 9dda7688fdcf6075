"""Appointment messages and reminders (issue 5).

    planner.plan(session, now, config) -> counts   the planner; run it as often as you like
    cancel.cancel_pending(session, appointment_id=, beneficiary_id=, reason=)   on NO / STOP
    cancel.withdraw_after_dose(conn, beneficiary_id, dose_number)                in the dose's transaction
    booking.announce_booking(session, appointment, code) the booking notice with its new security code (called by the appointments import)
    tikabot.tasks.reminders.run_planner           the RQ job
"""
