"""Reading numbers a coordinator (or a button's callback data) sends."""
from __future__ import annotations

import re

_WHOLE = re.compile(r"[0-9]{1,9}")  # ASCII only: str.isdigit() also accepts '²', which int() refuses


def whole_number(text: str | None) -> int | None:
    """A message id or page number, or None when `text` is not one."""
    return int(text) if text and _WHOLE.fullmatch(text) else None
