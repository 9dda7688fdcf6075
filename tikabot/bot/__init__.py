"""The Telegram coordinator bot (its own process: `tikabot bot`)."""
import os

# Opt in to python-telegram-bot's timedelta time periods (the v23 behaviour) now: otherwise every
# 429 (RetryAfter) raises a deprecation warning inside the library. Our code reads both forms.
os.environ.setdefault("PTB_TIMEDELTA", "true")
