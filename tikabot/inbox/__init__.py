"""The inbox: every inbound webhook hands its channel-neutral message to `accept` and answers after."""
from tikabot.inbox.accept import Unavailable, accept

__all__ = ["Unavailable", "accept"]
