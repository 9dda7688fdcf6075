"""`tikabot dlt export` / `tikabot dlt import FILE`: the DLT portal's template sheet, out and back.

Export writes every SMS template in every language as the portal takes it ({#var#} for each
variable), with the principal entity id and header from TIKABOT_DLT_ENTITY_ID and
TIKABOT_DLT_HEADER (or the options), each text ending with the configured brand (TIKABOT_DLT_BRAND),
and the ids already approved for that very text. Import loads the approved ids
back; one bad line and nothing is loaded (exit 3, every problem listed with its line); an
unreadable file exits 2.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click


@click.group("dlt")
def dlt() -> None:
    """TRAI DLT templates: export for the portal, import the approved ids."""


@dlt.command("export")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="File to write; stdout by default.")
@click.option("--entity-id", default=None, help="Principal entity id (19 digits); default TIKABOT_DLT_ENTITY_ID.")
@click.option("--header", default=None, help="Registered 6-letter header; default TIKABOT_DLT_HEADER.")
@click.option("--category", default="transactional", show_default=True,
              help="Messages sent for a government health drive are transactional.")
def export_cmd(output: Path | None, entity_id: str | None, header: str | None, category: str) -> None:
    """Every SMS template in every language, {#var#} for each variable, one row per template and language."""
    from tikabot.cli.context import config as _config
    from tikabot.dlt.csvfile import export_rows, write_csv
    from tikabot.dlt.rules import Brand
    from tikabot.dlt.store import approved_ids
    from tikabot.store.db import make_engine, make_sessionmaker
    from tikabot.dlt.values import database_exists

    config = _config()
    approved = {}
    if database_exists(config.database_url):
        engine = make_engine(config.database_url)
        try:
            from sqlalchemy import inspect

            if "dlt_templates" in inspect(engine).get_table_names():
                with make_sessionmaker(engine)() as session:
                    approved = approved_ids(session)
        finally:
            engine.dispose()
    entity_id = entity_id or os.environ.get("TIKABOT_DLT_ENTITY_ID", "")
    header = header or os.environ.get("TIKABOT_DLT_HEADER", "")
    if not entity_id or not header:
        click.echo("note: no entity id or header given (TIKABOT_DLT_ENTITY_ID, TIKABOT_DLT_HEADER): "
                   "fill those columns before uploading", err=True)
    rows = export_rows(entity_id, header, category, approved, Brand.of(config))
    if output is None:
        write_csv(rows, sys.stdout)
    else:
        with output.open("w", encoding="utf-8", newline="") as out:
            write_csv(rows, out)
        click.echo(f"wrote {len(rows)} templates to {output}", err=True)


@dlt.command("import")
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
def import_cmd(file: Path) -> None:
    """Load the approved template ids; nothing is loaded unless every line is right."""
    from tikabot.cli.context import config as _config, services as _services
    from tikabot.core.clock import now
    from tikabot.dlt.csvfile import BadFile, read_csv
    from tikabot.dlt.rules import Brand
    from tikabot.dlt.store import save

    config = _config()
    try:
        approved, problems, waiting = read_csv(file.read_bytes(), Brand.of(config))
    except BadFile as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    if problems:
        for line, problem in problems:
            click.echo(f"line {line}: {problem}", err=True)
        click.echo(f"nothing loaded: {len(problems)} problem(s) in {len({l for l, _ in problems})} line(s)", err=True)
        sys.exit(3)
    services = _services(config)
    try:
        with services.transaction() as session:
            loaded = save(session, approved, now())
    finally:
        services.close()
    click.echo(f"loaded {loaded} approved templates, {waiting} not approved yet")
