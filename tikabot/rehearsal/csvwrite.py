"""Writing a district as the import CSV files of CONTRACT §7."""
from __future__ import annotations

import csv
from pathlib import Path

from tikabot.imports.kinds import KINDS
from tikabot.rehearsal.district import District


def write_district(district: District, folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for kind in ("sites", "staff", "beneficiaries", "appointments"):
        path = folder / f"{kind}.csv"
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=KINDS[kind].columns)
            writer.writeheader()
            writer.writerows(getattr(district, kind))
        paths[kind] = path
    return paths
