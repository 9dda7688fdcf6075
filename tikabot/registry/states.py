"""A dose's sync state (Dose.sync_state): pending -> synced; failed (refused, with the reason);
correction_pending (voided after the registry had it: the upstream record becomes entered-in-error)."""
from __future__ import annotations


def after_void(state: str, upstream_id: str | None) -> str:
    """The state once UNDO voids the dose. Anything the registry may hold is corrected; a voided dose
    it never took is looked up once (an answer may have been lost) and then needs nothing."""
    if upstream_id or state == "synced":
        return "correction_pending"
    return "pending"
