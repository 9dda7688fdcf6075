"""`tikabot sync`, `tikabot reconcile`, `tikabot registry duplicates` and the FHIR side of `tikabot export doses` (CONTRACT §4, §10)."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from tikabot.cli.context import services as _services

from tikabot.registry.settings import RegistrySettings


def _settings(need_upstream: bool = True) -> RegistrySettings:
    try:
        settings = RegistrySettings.from_env()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    if need_upstream and not settings.base_url:
        raise click.ClickException("UPSTREAM_FHIR_BASE is not set: there is no registry to talk to")
    return settings


def export_fhir(session, out, tz: str, day=None, site_code=None, include_voided=False) -> int:
    """The FHIR Bundle of the doses the CSV export would list (the same filters)."""
    from tikabot.core.clock import now
    from tikabot.registry.doses_csv import dose_filters
    from tikabot.registry.bundle import build_bundle, write_bundle
    from tikabot.registry.records import dose_records_query, load_records
    from tikabot.registry.resources import Systems

    records = load_records(session, dose_records_query().where(*dose_filters(tz, day, site_code, include_voided)))
    return write_bundle(build_bundle(records, Systems.under(_settings(False).system_for), tz, now()), out)


@click.command()
@click.option("--wait", "wait_s", default=0.0, show_default=True, type=click.FloatRange(min=0),
              help="Keep retrying retryable failures for up to this many seconds.")
@click.option("--retry-failed", is_flag=True, help="Send again the records the registry refused before.")
def sync(wait_s: float, retry_failed: bool) -> None:
    """Push dose records not yet synced to the upstream FHIR registry (UPSTREAM_FHIR_BASE)."""
    from tikabot.registry.stale import make_client
    from tikabot.registry.sync import sync as run_sync

    settings = _settings()
    services = _services()
    client = make_client(settings)
    try:
        result = run_sync(services.sessions, client, settings, services.config.tz, wait_s=wait_s,
                          retry_failed=retry_failed)
    finally:
        client.close()
        services.close()
    click.echo(result.summary())
    if result.next_retry_at is not None and result.outcomes["retry"]:
        click.echo(f"next retry after {result.next_retry_at:%Y-%m-%d %H:%M:%S} UTC (or run tikabot sync --wait N)",
                   err=True)
    if result.outcomes["failed"] or result.outcomes["retry"]:
        sys.exit(3)


@click.command()
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write the differences as CSV to this file.")
def reconcile(output: Path | None) -> None:
    """List what differs between tikabot's dose records and the upstream registry's."""
    from tikabot.registry.client import FhirError
    from tikabot.registry.stale import make_client
    from tikabot.registry.reconcile import reconcile as run_reconcile, write_differences
    from tikabot.registry.resources import Systems

    settings = _settings()
    services = _services()
    client = make_client(settings)
    try:
        with services.sessions() as session:
            compared, differences = run_reconcile(session, client, Systems.under(settings.system_for))
    except FhirError as exc:
        raise click.ClickException(f"the registry did not answer: {exc.reason}") from exc
    finally:
        client.close()
        services.close()
    kinds: dict[str, int] = {}
    for difference in differences:
        kinds[difference.kind] = kinds.get(difference.kind, 0) + 1
        click.echo(difference.line())
    summary = ", ".join(f"{kind} {n}" for kind, n in kinds.items()) or "none"
    click.echo(f"compared {compared} dose records with the registry: {len(differences)} differences ({summary})")
    if output:
        with output.open("w", encoding="utf-8", newline="") as out:
            write_differences(differences, out)
        click.echo(f"differences written to {output}", err=True)
    if differences:
        sys.exit(1)


@click.group()
def registry() -> None:
    """Look after the upstream FHIR registry (UPSTREAM_FHIR_BASE)."""


@registry.command()
@click.option("--merge", is_flag=True, help="Keep the oldest record of each identifier, point tikabot's "
              "Immunizations at it, delete the others.")
def duplicates(merge: bool) -> None:
    """List the Patients, Practitioners, Locations and Immunizations of ours that the registry holds twice."""
    from tikabot.core.phones import mask
    from tikabot.registry import duplicates as dup
    from tikabot.registry.client import FhirError
    from tikabot.registry.stale import make_client
    from tikabot.registry.resources import Systems

    settings = _settings()
    systems = Systems.under(settings.system_for)
    client = make_client(settings)
    try:
        found = dup.find(client, systems)
        for duplicate in found:
            click.echo(duplicate.line(mask))
        extra = sum(len(d.extra) for d in found)
        click.echo(f"{len(found)} identifiers held more than once, {extra} extra records")
        if merge and found:
            repointed, deleted = dup.merge(client, systems, found)
            click.echo(f"merged: {repointed} Immunizations now point at the record kept, {deleted} extra records deleted")
            left = [d for d in found if d.resource_type == "Immunization"]
            if left:
                click.echo(f"{len(left)} dose ids are held by several Immunizations: not merged, see tikabot reconcile")
                sys.exit(1)
        elif found:
            sys.exit(1)
    except FhirError as exc:
        raise click.ClickException(f"the registry did not answer: {exc.reason}") from exc
    finally:
        client.close()
