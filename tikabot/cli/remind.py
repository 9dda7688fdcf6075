"""`tikabot remind`: run the planner once, or with --dry-run show a day's messages by site."""
from __future__ import annotations

from datetime import date

import click


@click.command("remind")
@click.option("--dry-run", is_flag=True, help="Show the day's messages by site; write nothing.")
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]),
              help="Local day (TIKABOT_TZ) for --dry-run; today by default.")
def remind(dry_run: bool, day) -> None:
    """Appointment messages and reminders: plan them now, or show a day's with --dry-run."""
    from tikabot.core import clock
    from tikabot.cli.context import services as _services
    from tikabot.reminders.dryrun import day_plan, report
    from tikabot.reminders.planner import plan
    from tikabot.reminders.policy import Policy

    services = _services()
    try:
        try:
            policy = Policy.from_config(services.config)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        now = clock.now()
        if dry_run:
            target: date = day.date() if day else policy.local_date(now)
            with services.sessions() as session:
                click.echo(report(day_plan(session, target, now, services.config), target, policy.tz))
            return
        if day:
            raise click.UsageError("--date goes with --dry-run; the planner always plans from now")
        with services.transaction() as session:
            counts = plan(session, now, services.config)
        click.echo(", ".join(f"{name} {n}" for name, n in sorted(counts.items())) or "nothing to plan")
    finally:
        services.close()
