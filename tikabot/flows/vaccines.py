"""Vaccines known to the drive: built-ins plus an optional TOML file.

    [[vaccine]]
    name = "CORBEVAX"
    aliases = ["CBX", "CORBE"]
    min_interval_days = 84
    doses = 2

An entry whose name matches a built-in replaces it.
"""

from __future__ import annotations

import tomllib
import unicodedata
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Vaccine:
    name: str
    aliases: tuple[str, ...] = ()
    min_interval_days: int = 28
    doses: int = 2


BUILT_IN = (
    Vaccine("COVISHIELD", ("CS", "COVI", "CVS", "কোভিশিল্ড", "कोविशील्ड"), min_interval_days=28, doses=2),
    Vaccine("COVAXIN", ("CX", "COVA", "CVX", "কোভ্যাক্সিন", "कोवैक्सिन", "कोवैक्सीन"), min_interval_days=28, doses=2),
)

_active: dict[str, Vaccine] = {v.name: v for v in BUILT_IN}
_loads = [0]  # how many times the active set was replaced: what the parser's cache is keyed on


def _word(name: str) -> str:
    """A name as it is compared: NFC, upper case, words single-spaced ("Sputnik  v" -> "SPUTNIK V")."""
    return " ".join(unicodedata.normalize("NFC", name).upper().split())


def _from_entry(entry: object) -> Vaccine:
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not entry["name"].strip():
        raise ValueError(f"vaccine entry needs a name: {entry!r}")
    aliases = entry.get("aliases", [])
    interval = entry.get("min_interval_days", 28)
    doses = entry.get("doses", 2)
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        raise ValueError(f"{entry['name']}: aliases must be a list of strings")
    if not isinstance(interval, int) or isinstance(interval, bool) or interval < 0:
        raise ValueError(f"{entry['name']}: min_interval_days must be a whole number >= 0")
    if not isinstance(doses, int) or isinstance(doses, bool) or not 1 <= doses <= 9:
        raise ValueError(f"{entry['name']}: doses must be a whole number from 1 to 9")
    return Vaccine(
        _word(entry["name"]),
        tuple(_word(a) for a in aliases if a.strip()),
        interval,
        doses,
    )


def _check_aliases(vaccines: dict[str, Vaccine]) -> None:
    owner: dict[str, str] = {}
    for v in vaccines.values():
        for word in (v.name, *v.aliases):
            if owner.setdefault(word, v.name) != v.name:
                raise ValueError(f"{word} names both {owner[word]} and {v.name}")


def load_vaccines(path: str | Path | None = None) -> dict[str, Vaccine]:
    """Built-ins, extended or overridden by the TOML file at path; becomes the active set.

    Raises ValueError (or OSError) on a bad file, leaving the active set unchanged.
    """
    vaccines = {v.name: v for v in BUILT_IN}
    if path is not None:
        with open(path, "rb") as f:
            try:
                data = tomllib.load(f)
            except tomllib.TOMLDecodeError as exc:
                raise ValueError(f"{path}: {exc}") from None
        entries = data.get("vaccine", [])
        if not isinstance(entries, list):
            raise ValueError(f"{path}: use [[vaccine]] tables")
        for entry in entries:
            v = _from_entry(entry)
            vaccines[v.name] = v
    _check_aliases(vaccines)
    _active.clear()
    _active.update(vaccines)
    _loads[0] += 1
    return dict(vaccines)


def generation() -> int:
    """Changes whenever load_vaccines replaces the active set (a text parsed before may read otherwise now)."""
    return _loads[0]


def known() -> list[Vaccine]:
    return list(_active.values())


def most_words() -> int:
    """The most words in one vaccine name or alias ("SPUTNIK V": 2), for the parser to try."""
    return max((len(word.split()) for v in _active.values() for word in (v.name, *v.aliases)), default=1)


def resolve(name: str) -> Vaccine | None:
    """The vaccine called name or one of its aliases (any case), else None."""
    word = _word(name or "")
    for v in _active.values():
        if word == v.name or word in map(_word, v.aliases):
            return v
    return None
