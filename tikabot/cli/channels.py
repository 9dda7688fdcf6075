"""`tikabot channels`: each channel, its health, and which traffic it carries (routes in order).

Health is read from Redis (REDIS_URL, else the Redis a running `tikabot up` started), where every
worker keeps it (queue/routes/health.py); with no Redis it shows as unknown. Every configured
provider is listed, whether or not TIKABOT_ROUTES names it; each gateway phone and Exotel account
is asked whether it answers (cli/probes.py), and a domestic route shows how many of the templates
it may send are DLT-approved.
"""
from __future__ import annotations

import time

import click

from tikabot.dlt.templates import FREE_TEXT
from tikabot.cli import probes
from tikabot.queue.routes.health import DOWN, FORCED, HALF_OPEN, RouteHealth
from tikabot.queue.routes.table import KINDS, table_for, traffic_kind

DESCRIBED = {
    "twilio": "Twilio SMS (international routes into India; no replies from Indian phones)",
    "android": "SMS Gateway for Android (a phone with a local SIM; two-way)",
    "exotel": "Exotel (Indian aggregator; DLT-registered templates only)",
    "cdac": "C-DAC Mobile Seva (the government's MSDG; DLT-registered templates only; pull SMS in)",
    "nic": "NIC SMS gateway (government route; DLT-registered templates only)",
    "kannel": "Kannel (the district's SMPP gateway to an operator or aggregator; two-way)",
}


EACH_HEADER = "each template's own header (tikabot dlt export)"


def registrations(config) -> list[str]:
    """What a district must register where, for the government and SMPP routes it set up."""
    base = (config.public_base_url or "<PUBLIC_BASE_URL>").rstrip("/")
    lines = []
    if config.nic_username:
        source = config.nic_source_address or ("not set: set NIC_SOURCE_ADDRESS to the public address this "
                                               "server's HTTPS leaves from (behind NAT, the NAT's)")
        lines += ["register with NIC (smsgw.sms.gov.in):",
                  f"  allowed source address   {source}",
                  f"  delivery-report URL      {base}/channels/nic/dlr?token=<NIC_CALLBACK_TOKEN>",
                  f"  sender id (DLT header)   {config.nic_signature or EACH_HEADER}"]
    if config.kannel_sendsms_url:
        lines += ["write into kannel.conf (README, Kannel):",
                  f"  sendsms-user             {config.kannel_username or '<KANNEL_USERNAME>'} "
                  f"(smsbox at {config.kannel_sendsms_url})",
                  f"  sms-service get-url      {base}/channels/kannel/inbound?token=<KANNEL_CALLBACK_TOKEN>"
                  "&id=%I&from=%p&to=%P&text=%b&coding=%c&charset=%C&time=%t&smsc=%i",
                  "  (delivery reports need nothing: each message carries its dlr-url)"]
    return lines


def _health(health: RouteHealth | None, route: str) -> str:
    if health is None:
        return "unknown (no Redis)"
    state = health.state(route)
    sends, errors = health.window(route)
    latest, latest_errors = health.latest(route)
    counts = f"{errors} errors in {sends} sends, last {int(2 * health.settings.window_s)} s"
    if sends > latest:  # what takes it down is the share among its latest sends (queue/routes/health.py)
        counts += f" ({latest_errors} in the latest {latest})"
    if state in (DOWN, FORCED):
        left = health.down_for(route)
        outage = health.outage(route)
        since = f", since {time.strftime('%H:%M:%S', time.localtime(outage.since))}" if outage else ""
        until = "" if left is None or left == float("inf") else f", {left:.0f} s before a trial"
        return f"{state} ({outage.reason if outage else '?'}{since}{until}); {counts}"
    if state == HALF_OPEN:
        return f"recovering: the next message is a trial; {counts}"
    return f"up; {counts}"


CONFIGURED = {  # a provider set up in the environment, routed or not
    "android": lambda config: bool(config.smsgate_phones),
    "exotel": lambda config: bool(config.exotel_account_sid),
}


def shown_routes(config, table) -> list[str]:
    """The routes TIKABOT_ROUTES names, then every other provider the environment sets up."""
    extra = [route for route, set_up in CONFIGURED.items() if set_up(config) and route not in table.all_routes]
    return list(table.all_routes) + extra


def _endpoints(config, route: str) -> list[tuple[bool, str]]:
    """(answers, line) for each phone or account behind a route."""
    if route == "android":
        found = []
        for phone in config.smsgate_phones:
            ok, words = probes.phone(phone)
            found.append((ok, f"phone {phone.id}: {words}"))
        return found
    if route == "exotel" and config.exotel_account_sid:
        ok, words = probes.exotel_account(config)
        return [(ok, f"account {config.exotel_account_sid}: {words}")]
    return []


def dlt_counts(config) -> tuple[int, int, int] | None:
    """(approved, registrable, stale) templates, from the database; None when it cannot be read.
    Approved counts a template only while its approved text is the one tikabot sends now (with the
    configured brand): a brand or a translation changed since is counted stale, to register again."""
    from sqlalchemy import select

    from tikabot.dlt.pattern import dlt_text
    from tikabot.dlt.rules import Brand
    from tikabot.dlt.templates import registrable
    from tikabot.store.db import make_engine
    from tikabot.store.models import DltTemplate

    engine = make_engine(config.database_url, wait_s=2.0)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(DltTemplate.template, DltTemplate.language, DltTemplate.form,
                                       DltTemplate.text)).all()
    except Exception:  # no database yet (tikabot init-db), or it does not answer: say so, not a traceback
        return None
    finally:
        engine.dispose()
    now = {(t.key, t.language, t.form): dlt_text(t.text) for t in registrable(brand=Brand.of(config))}
    approved = sum(now.get((template, language, form)) == text for template, language, form, text in rows)
    return approved, len(now), len(rows) - approved


def describe(config, redis=None, probe: bool = True, dlt: tuple[int, int, int] | None = None,
             bot_on_simulator: bool = False) -> list[str]:
    table = table_for(config)
    health = RouteHealth(redis) if redis is not None else None
    lines = [f"{'channel':10} {'DLT':4} health", ]
    for route in shown_routes(config, table):
        endpoints = _endpoints(config, route) if probe else []
        state = _health(health, route)
        if endpoints and not any(ok for ok, _ in endpoints):
            state = f"down: nothing behind it answers (workers see: {state})"
        lines.append(f"{route:10} {'yes' if table.is_domestic(route) else 'no':4} {state}")
        lines.append(f"{'':10} {DESCRIBED.get(route, 'a route with its own sender')}")
        if route not in table.all_routes:
            lines.append(f"{'':10} configured, but TIKABOT_ROUTES gives it no traffic")
        for _ok, words in endpoints:
            lines.append(f"{'':10} {words}")
        if table.is_domestic(route):
            counted = ("DLT templates approved: unknown (no database; tikabot init-db)" if dlt is None else
                       f"DLT templates approved: {dlt[0]} of {dlt[1]}"
                       + ("" if dlt[0] >= dlt[1] else " (the rest cannot go on this route: tikabot dlt export)"))
            lines.append(f"{'':10} {counted}")
            if dlt is not None and dlt[2:] and dlt[2]:
                lines.append(f"{'':10} {dlt[2]} approved for a text tikabot no longer sends (the DLT brand or a "
                             "translation changed): tikabot templates check --dlt names them; export, register again")
    lines.append(f"{'voice':10} {'no':4} Twilio calls (an OTP read out when its SMS did not arrive)")
    bot = ("configured" if config.telegram_bot_token else
           "on the simulator, run by tikabot up (tikabot phone --telegram USER_ID)" if bot_on_simulator else
           "off (no TELEGRAM_BOT_TOKEN)")
    lines.append(f"{'telegram':10} {'no':4} coordinator bot: {bot}")
    lines.append("")
    lines.append(f"{'traffic':13} routes, in order of preference")
    for kind in KINDS:
        note = " (first: the route the message came in on, while it is up)" if kind == "reply" else ""
        lines.append(f"{kind:13} {' -> '.join(table.routes_for(kind))}{note}")
    lines += _free_text(config, table)
    register = registrations(config)
    if register:
        lines += ["", *register]
    if not config.routes and config.smsgate_phones:
        lines.append("TIKABOT_ROUTES is not set: replies go back by the gateway phone, Twilio carries the rest")
    elif not config.routes:
        lines.append("TIKABOT_ROUTES is not set: Twilio carries every SMS")
    return lines + cdac_registration(config)


def cdac_registration(config) -> list[str]:
    """What a district registers with C-DAC for pull SMS (its RegisterPullService form)."""
    if not config.cdac_pull_token:
        return []
    base = (config.public_base_url or "https://<PUBLIC_BASE_URL>").rstrip("/")
    return ["", "C-DAC pull SMS: register with MSDG (msdp@cdac.in)",
            f"  keyword      {config.cdac_keyword}",
            f"  URL          {base}/channels/cdac/inbound?token=<CDAC_PULL_TOKEN> (GET or POST, port 80 or 443)",
            "  server       this server's public address (MSDG calls only whitelisted servers)",
            f"  taken from   {', '.join(config.cdac_pull_sources)}"
            + f" (through proxies {', '.join(config.trusted_proxies)})"]


def _free_text(config, table) -> list[str]:
    """What no DLT template can hold, and the routes that carry it instead (never a DLT route)."""
    domestic = [r for r in table.all_routes if table.is_domestic(r)]
    if not domestic:
        return []
    lines = ["", f"free text: never on a DLT route ({', '.join(domestic)}); no DLT template can hold it"]
    for key, what in FREE_TEXT.items():
        kind = traffic_kind(key, "otp" if key == "alert.severe" else "default")
        others = [r for r in table.routes_for(kind) if not table.is_domestic(r)]
        if key in ("alert.severe", "alert.aefi_severe") and config.telegram_bot_token:
            others.append("telegram (coordinators who have it)")
        lines.append(f"{key:23} {what}: goes by {' -> '.join(others) or 'NOTHING: add a route without DLT'}")
    return lines


@click.command("channels")
def channels() -> None:
    """Each channel, its health, and which traffic it serves (routes and fallbacks)."""
    from tikabot.cli.context import config as _config

    config = _config()
    try:
        table = table_for(config)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    from tikabot.stack.banner import running_state

    redis = None
    running = running_state()
    redis_url = config.redis_url or (running.redis_url if running else None)
    if redis_url:
        from redis import Redis

        redis = Redis.from_url(redis_url, socket_timeout=2)
    try:
        from tikabot.queue.senders import configured

        try:
            table.check_known(configured(config))
        except ValueError as exc:
            click.echo(f"warning: {exc}", err=True)
        dlt = dlt_counts(config) if any(table.is_domestic(r) for r in shown_routes(config, table)) else None
        for line in describe(config, redis, dlt=dlt, bot_on_simulator=bool(running and running.bot_on_simulator)):
            click.echo(line)
    finally:
        if redis is not None:
            redis.close()
