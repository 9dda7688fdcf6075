"""JSON from a webhook, as the rest of tikabot can hold it.

json.loads takes what no database or encoder can: a lone surrogate escape ("\\ud800") gives a str
that cannot be encoded as UTF-8 (hashing it, storing it or logging it fails), and 20,000 levels of
nesting raise RecursionError. loads() answers ValueError for nesting, and replaces lone surrogates
with U+FFFD (in keys too), so a signed message with half an emoji is still kept and read.
"""
from __future__ import annotations

import json
import re

_SURROGATE = re.compile("[\ud800-\udfff]")
MAX_DEPTH = 64


def loads(raw: bytes | str) -> object:
    """The JSON value; ValueError when it is not JSON or nested deeper than MAX_DEPTH."""
    try:
        value = json.loads(raw)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    escaped = b"\\u" in raw if isinstance(raw, bytes) else "\\u" in raw
    return _clean(value, 0) if escaped else _check_depth(value, 0)


def _check_depth(value, depth: int):
    if isinstance(value, (dict, list)):
        if depth >= MAX_DEPTH:
            raise ValueError("JSON nested too deeply")
        for item in (value.values() if isinstance(value, dict) else value):
            _check_depth(item, depth + 1)
    return value


def _clean(value, depth: int):
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, (dict, list)) and depth >= MAX_DEPTH:
        raise ValueError("JSON nested too deeply")
    if isinstance(value, dict):
        return {_clean(k, depth): _clean(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v, depth + 1) for v in value]
    return value
