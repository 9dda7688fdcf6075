"""`tikabot staff add`: a substitute vaccinator or verifier for a site, effective at once, audited."""
from __future__ import annotations

import getpass

import click


@click.group("staff")
def staff() -> None:
    """Site staff on the day (the rest comes from staff.csv: tikabot import staff)."""


@staff.command("add")
@click.argument("phone")
@click.option("--site", "site_code", required=True, help="The site code, as in sites.csv (KAL01).")
@click.option("--name", required=True, help="The substitute's name, as the coordinator will read it.")
@click.option("--role", type=click.Choice(["vaccinator", "verifier"]), default="vaccinator", show_default=True)
@click.option("--language", type=click.Choice(["en", "bn", "hi"]), default=None,
              help="The language of their replies; default: what most of the site's staff read (LANG changes it).")
def add(phone: str, site_code: str, name: str, role: str, language: str | None) -> None:
    """Add PHONE as a substitute at a site: their next SMS is answered as staff."""
    from tikabot.cli.context import services as _services
    from tikabot.core.phones import mask
    from tikabot.imports.substitute import CannotAdd, add_substitute, site_by_code

    services = _services()
    try:
        with services.transaction() as session:
            site = site_by_code(session, site_code)
            if site is None:
                raise click.ClickException(f"no site {site_code.strip().upper()!r}: see sites.csv (tikabot import sites)")
            try:
                added = add_substitute(session, phone=phone, name=name, site=site, role=role, language=language,
                                       actor=f"cli:{getpass.getuser()}")
            except CannotAdd as exc:
                raise click.ClickException(str(exc)) from exc
    finally:
        services.close()
    done = {"new": "added", "moved": "moved here", "already": "already there"}[added.was]
    click.echo(f"{added.name} ({mask(added.phone)}): {added.role} at {added.site_code} {added.site_name}, {done}. "
               f"Their next SMS is answered as staff: START <VACCINE> <LOT>, then DOSE <REF>.")
