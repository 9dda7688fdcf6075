"""What a domestic Indian channel needs to send one message: its DLT record.

The send path attaches the record to the outgoing message (`Outgoing.dlt`) before a domestic
route's sender sees it. A domestic sender that finds `getattr(message, "dlt", None)` is None must
refuse with `SendError(DLT_UNREGISTERED, DLT_CODE)`: operators block unregistered text anyway, and
a refusal here costs nothing and says why.
"""
from __future__ import annotations

from dataclasses import dataclass

from tikabot.core.sending import FAIL, ErrorKind

# Not retryable: sending the same text again cannot help until its template id is approved.
DLT_UNREGISTERED = ErrorKind("dlt_unregistered", FAIL)
DLT_CODE = "dlt_unreg"  # what the outbox row keeps as last_error_code (10 characters at most)

CATEGORIES = ("transactional", "service_implicit", "service_explicit", "promotional")
CONTENT_TYPES = ("Text", "Unicode")
# A government health drive's messages count as transactional (TRAI); aggregators' SmsType names.
SMS_TYPES = {"transactional": "transactional", "service_implicit": "transactional",
             "service_explicit": "transactional_opt_in", "promotional": "promotional"}


@dataclass(frozen=True)
class DltRecord:
    """One approved template: the ids an aggregator takes with the message."""
    entity_id: str      # principal entity id, 19 digits
    template_id: str    # content template id, 19 digits
    header: str         # the registered 6-letter header (sender id)
    sms_type: str       # transactional | transactional_opt_in | promotional (Exotel's SmsType)
    category: str = "transactional"
    content_type: str = "Text"  # Text (GSM-7) or Unicode (UCS-2): fixed at registration
    template: str = ""  # our catalog key, e.g. appt.reminder_eve
    language: str = ""
    form: int = 0       # plural form index (0 for an entry without plurals)
