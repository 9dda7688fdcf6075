"""DLT approval as a district does it, for tests of domestic routes: export every template, mark
rows approved with an id, import them back (tikabot dlt export / import)."""
from __future__ import annotations

import io

from tikabot.core.clock import now
from tikabot.dlt import csvfile, store

ENTITY = "1101234567890123456"


def approve_all(services, header: str, entity: str = ENTITY) -> int:
    """Every template in every language approved, each with its own 19-digit id; how many."""
    exported = csvfile.export_rows(entity, header)
    for n, row in enumerate(exported, start=1):
        row["template_id"] = f"1107{n:015d}"
    out = io.StringIO()
    csvfile.write_csv(exported, out)
    approved, problems, _ = csvfile.read_csv(out.getvalue().encode())
    assert problems == []
    with services.transaction() as session:
        store.save(session, approved, now())
    return len(approved)
