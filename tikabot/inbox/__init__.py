"""The inbox: every inbound webhook hands its channel-neutral message to `accept` and answers after;
the inbox worker processes what was kept, in order per sender (worker.py)."""
from tikabot.inbox.accept import Unavailable, accept
from tikabot.inbox.now import handle
from tikabot.inbox.storable import Unstorable
from tikabot.core.message import InboundMessage

__all__ = ["InboundMessage", "Unavailable", "Unstorable", "accept", "handle"]
