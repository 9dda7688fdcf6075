"""The `tikabot` command line (CONTRACT §4)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from tikabot.cli.context import ConfigError, config as _config, services as _services
from tikabot.cli.channels import channels as _channels
from tikabot.cli.dlt import dlt as _dlt
from tikabot.cli.templates import templates as _templates
from tikabot.cli.phone import phone as _phone
from tikabot.cli.registry import reconcile as _reconcile, registry as _registry, sync as _sync
from tikabot.cli.remind import remind as _remind
from tikabot.cli.staff import staff as _staff


@click.group()
@click.version_option(package_name="tikabot", message="%(prog)s %(version)s")
def main() -> None:
    """tikabot: appointment messages, OTPs and dose reports over SMS, USSD and Telegram."""


@main.command("init-db")
def init_db() -> None:
    """Create or migrate the database schema (Alembic upgrade head)."""
    from tikabot.store.db import make_engine
    from tikabot.store.migrate import upgrade

    config = _config()
    engine = make_engine(config.database_url)
    upgrade(engine)
    engine.dispose()
    click.echo(f"database ready: {engine.url.render_as_string(hide_password=True)}")


@main.command("import")
@click.argument("kind", type=click.Choice(["sites", "staff", "beneficiaries", "appointments", "doses"]))
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every row and report; change nothing.")
def import_(kind: str, file: Path, dry_run: bool) -> None:
    """Import a registry CSV; re-importing the same file adds nothing."""
    from tikabot.core.clock import local_date, now
    from tikabot.imports.csvfile import MalformedFile
    from tikabot.imports.runner import run_import

    services = _services()
    try:
        result = run_import(services.sessions, kind, file, dry_run=dry_run, progress=sys.stderr.isatty(),
                            today=local_date(now(), services.config.tz))
    except MalformedFile as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    finally:
        services.close()
    click.echo(result.summary() + (" (dry run: nothing saved)" if dry_run else ""))
    if result.rejects_path:
        click.echo(f"rejected rows and reasons: {result.rejects_path}", err=True)
        sys.exit(3)


@main.group()
def export() -> None:
    """Export records."""


@export.command("doses")
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), help="Local day (TIKABOT_TZ).")
@click.option("--site", "site_code")
@click.option("--format", "fmt", type=click.Choice(["csv", "fhir"]), default="csv")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="File to write; stdout by default.")
@click.option("--include-voided", is_flag=True, help="Include doses undone with UNDO.")
def export_doses_cmd(day, site_code, fmt, output, include_voided) -> None:
    """Dose records as CSV (formula-safe), or as a FHIR R4 Bundle of Immunizations."""
    from tikabot.registry.doses_csv import BadDay, check_day, export_doses
    from tikabot.cli.registry import export_fhir

    write = export_fhir if fmt == "fhir" else export_doses
    if day is not None:
        try:
            check_day(day.date())
        except BadDay as exc:
            raise click.BadParameter(str(exc), param_hint="--date") from None
    services = _services()
    out = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    try:
        with services.sessions() as session:
            count = write(session, out, services.config.tz, day.date() if day else None, site_code, include_voided)
    finally:
        if output:
            out.close()
        services.close()
    if output:
        click.echo(f"exported {count} dose records to {output}", err=True)


@main.command()
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
def worker(burst: bool) -> None:
    """Process inbound messages from the inbox (TIKABOT_INBOX_WORKERS processes, default 1), send
    queued messages (queues otp > reply > default > bulk) and run the scheduler."""
    from tikabot.inbox import worker as inbox_worker
    from tikabot.stack.worker import run_worker

    services = _services(_config(ConfigError))  # a wrong setting: one line, exit 78, the unit leaves it stopped
    if services.redis is None:
        raise click.ClickException("REDIS_URL is not set (tikabot up starts an embedded Redis)")
    if burst:
        inbox_worker.burst(services)
    else:
        from redis import Redis

        from tikabot.queue.routes import pause

        inbox = int(os.environ.get("TIKABOT_INBOX_WORKERS", "1"))
        inbox_worker.start_processes(inbox)
        click.echo(worker_banner(inbox, services.config.redis_url, services.config.database_url), err=True)
        # A client of its own: a connection opened on services.redis now would stay in its pool with
        # the short socket timeout RQ's Worker raises only for connections opened after it starts,
        # and its blocking dequeue on that connection would time out and stop the worker.
        lifter = Redis.from_url(services.config.redis_url, socket_timeout=5, socket_connect_timeout=5)
        try:
            lifted = pause.lift_all(lifter)
        finally:
            lifter.close()
        for route, code in lifted:
            click.echo(f"sending on {route} resumed: its pause after an account failure ({code}) is lifted at "
                       "start; if the account still fails, its first send pauses it again", err=True)
    run_worker(services.redis, burst=burst)


def worker_banner(inbox: int, redis_url: str | None, database_url: str) -> str:
    """What a started worker says (systemd's journal shows it): what it runs and where, no password."""
    from tikabot.config import hide_url_password

    processes = "1 inbox process" if inbox == 1 else f"{inbox} inbox processes"
    return (f"tikabot worker: {processes}, sending (queues otp > reply > default > bulk) and the schedule; "
            f"Redis {hide_url_password(redis_url)}, database {hide_url_password(database_url)}; Ctrl-C stops")


@main.command()
@click.option("--port", default=5000, show_default=True)
@click.option("--workers", default=2, show_default=True)
def serve(port: int, workers: int) -> None:
    """The web app (webhooks, health, metrics) under gunicorn."""
    from tikabot.stack.processes import exec_gunicorn

    exec_gunicorn(port, workers)


@main.command()
@click.option("--port", default=5000, show_default=True)
def up(port: int) -> None:
    """Everything on one machine: Redis, database, simulator, web and worker."""
    from tikabot.stack.processes import AlreadyUp, run_everything

    try:
        code = run_everything(_config(), port)
    except AlreadyUp as exc:
        raise click.ClickException(str(exc)) from exc
    except KeyboardInterrupt:  # Ctrl-C while starting: what had started is stopped already
        click.echo("stopped")
        code = 130
    sys.exit(code)


@main.command()
@click.option("--sites", default=20, show_default=True, help="Vaccination sites in the synthetic district.")
@click.option("--beneficiaries", default=2000, show_default=True)
@click.option("--fail-rate", default=0.05, show_default=True, type=click.FloatRange(0, 1),
              help="Share of provider requests that fail.")
@click.option("--seed", default=1, show_default=True)
@click.option("--workers", default=2, show_default=True, type=click.IntRange(min=1),
              help="Worker processes sending messages.")
@click.option("--kill-workers", default=0, show_default=True, type=click.IntRange(min=0),
              help="SIGKILL this many workers during the day.")
@click.option("--restart-redis", is_flag=True, help="Kill and restart Redis once during the day.")
@click.option("--out", type=click.Path(path_type=Path), help="Folder for report.json, report.png and logs.")
@click.option("--channels", "channels", default=None, metavar="WHO=ROUTE[+ROUTE],...",
              help="Which route carries what, e.g. staff=android,reminders=exotel,otp=exotel,fallback=twilio. "
                   "WHO: staff (their SMS in, replies out), beneficiaries (their SMS in; default the first "
                   "reminders route), otp, reminders, confirmations, alerts, fallback (tried after each, carries "
                   "the rest; default twilio). ROUTE: twilio, android, exotel, cdac, nic (sends only), kannel; "
                   "several in order with +. "
                   "Default: Twilio alone.")
@click.option("--down", default=None, metavar="ROUTE:START-END",
              help="Take a route down for a stretch of the day: exotel:30-40 (minutes of the 480-minute day, "
                   "counted in people seen) or exotel:0.25-0.5 (shares of the day). Exotel's account refuses "
                   "every request, C-DAC's credits run out, NIC refuses our address, Kannel's smsbox drops "
                   "every connection, a gateway phone goes silent, Twilio is taken out of rotation.")
def rehearse(sites, beneficiaries, fail_rate, seed, workers, kill_workers, restart_redis, out, channels,
             down) -> None:
    """Play a whole synthetic vaccination day end to end, with injected faults, and judge it.

    \b
    On India's channels, Exotel down for 10 minutes of the day:
      tikabot rehearse --channels staff=android,reminders=exotel,otp=exotel,fallback=twilio \\
                       --down exotel:30-40
    """
    from tikabot.rehearsal.channels import BadSpec, parse_channels, parse_down
    from tikabot.rehearsal.run import NotARehearsalFolder, Options, rehearse as run_rehearsal

    if sites < 1 or beneficiaries < sites:
        raise click.BadParameter("need at least one site and one beneficiary per site")
    try:
        parse_down(down, parse_channels(channels))
    except BadSpec as exc:
        raise click.BadParameter(str(exc), param_hint="--channels/--down") from exc
    try:
        report = run_rehearsal(Options(sites=sites, beneficiaries=beneficiaries, fail_rate=fail_rate, seed=seed,
                                       workers=workers, kill_workers=kill_workers, restart_redis=restart_redis,
                                       out=out, channels=channels, down=down))
    except NotARehearsalFolder as exc:
        raise click.BadParameter(str(exc), param_hint="--out") from exc
    except KeyboardInterrupt:
        click.echo("rehearsal interrupted; every process it started is stopped", err=True)
        sys.exit(130)
    click.echo(report.table())
    if report.broken:
        sys.exit(1)


@main.command()
@click.option("--webhook-url", default=None, help="Serve Telegram's webhook at this public URL instead of polling.")
@click.option("--port", default=8443, show_default=True, help="Local port for the webhook server.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address the webhook server listens on.")
def bot(webhook_url: str | None, port: int, host: str) -> None:
    """The Telegram coordinator bot: long polling, or a webhook checked with TELEGRAM_WEBHOOK_SECRET.

    A setting it cannot start without (no TELEGRAM_BOT_TOKEN, a token Telegram refuses, a bad
    setting) is one line and exit 78 (EX_CONFIG): the unit leaves the bot stopped instead of
    restarting it every 5 seconds."""
    from tikabot.bot.run import BotConfigError, check, run_polling, run_webhook

    config = _config(ConfigError)
    try:
        check(config, webhook_url)
    except BotConfigError as exc:
        raise ConfigError(str(exc)) from exc
    services = _services(config)
    try:
        say = lambda line: click.echo(line)  # noqa: E731  where it listens or polls, once it does
        if webhook_url:
            run_webhook(services, webhook_url, port, host, announce=say)
        else:
            run_polling(services, announce=say)
    except BotConfigError as exc:
        raise ConfigError(str(exc)) from exc
    finally:
        services.close()


@main.command()
@click.option("--port", default=8900, show_default=True)
@click.option("--fail-rate", default=0.0, show_default=True, help="Share of requests that fail (spread over fault kinds).")
@click.option("--account-sid", default=None, envvar="TWILIO_ACCOUNT_SID", show_envvar=True,
              help="Account SID the simulator accepts (default: the settings' TWILIO_ACCOUNT_SID, else its own).")
@click.option("--auth-token", default=None, envvar="TWILIO_AUTH_TOKEN", show_envvar=True,
              help="Auth token it accepts and signs callbacks with (default: the settings' TWILIO_AUTH_TOKEN, else its own).")
def simulator(port: int, fail_rate: float, account_sid: str | None, auth_token: str | None) -> None:
    """The provider simulator: Twilio Messages/Calls and a Telegram Bot API subset on loopback."""
    from tikabot.stack.processes import SIMULATOR_ACCOUNT_SID, SIMULATOR_AUTH_TOKEN
    from tikabot.simulator.server import serve_forever

    serve_forever(port=port, fail_rate=fail_rate, account_sid=account_sid or SIMULATOR_ACCOUNT_SID,
                  auth_token=auth_token or SIMULATOR_AUTH_TOKEN)


for _command in (_remind, _templates, _sync, _reconcile, _registry, _phone, _dlt, _channels, _staff):
    main.add_command(_command)

if __name__ == "__main__":
    main()
