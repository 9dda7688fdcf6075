"""The inbox: every inbound webhook hands its channel-neutral message to `accept` and answers after;
the inbox worker processes what was kept, in order per sender (worker.py)."""
