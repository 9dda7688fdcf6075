"""A vaccines file (TIKABOT_VACCINES) in force for a test, the built-ins back afterwards."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from tikabot.flows import vaccines

SPUTNIK_V = '[[vaccine]]\nname = "SPUTNIK V"\naliases = ["SPV"]\nmin_interval_days = 21\ndoses = 2\n'


@contextmanager
def vaccines_file(folder: Path, content: str):
    path = Path(folder) / "vaccines.toml"
    path.write_text(content, encoding="utf-8")
    vaccines.load_vaccines(path)
    try:
        yield path
    finally:
        vaccines.load_vaccines()
