"""DLT approval as a district does it, for tests of domestic routes: export every template, mark
rows approved with an id, import them back (tikabot dlt export / import)."""
from __future__ import annotations

import io

from tikabot.core.clock import now
from tikabot.dlt import csvfile, store
from tikabot.dlt.rules import Brand

ENTITY = "1101234567890123456"


def approve_all(services, header: str, entity: str = ENTITY, brand: Brand | None = None) -> int:
    """Every template in every language approved, each with its own 19-digit id; how many. Signed
    with brand: the one the services' settings name unless told (an older brand, approved before)."""
    brand = Brand.of(services.config) if brand is None else brand
    exported = csvfile.export_rows(entity, header, brand=brand)
    for n, row in enumerate(exported, start=1):
        row["template_id"] = f"1107{n:015d}"
    out = io.StringIO()
    csvfile.write_csv(exported, out)
    approved, problems, _ = csvfile.read_csv(out.getvalue().encode(), brand)
    assert problems == []
    with services.transaction() as session:
        store.save(session, approved, now())
    return len(approved)
