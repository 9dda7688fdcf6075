"""`tikabot rehearse`: build a district, start the stack, play the day with chaos, judge it."""
from __future__ import annotations

import random
import re
import sys
import shutil
import signal
import tempfile
import threading
import time
from dataclasses import dataclass
import json
from pathlib import Path

import click
import requests
from sqlalchemy import func, select

from tikabot.core.clock import local_date, now
from tikabot.config import Config
from tikabot.imports.runner import run_import
from tikabot.stack.processes import SIMULATOR_ACCOUNT_SID, SIMULATOR_AUTH_TOKEN
from tikabot.rehearsal import india
from tikabot.rehearsal.channel_report import channel_invariants, link_copies, unlinked_copies
from tikabot.rehearsal.channels import parse_channels, parse_down
from tikabot.rehearsal.chart import draw
from tikabot.rehearsal.inbound_sms import RoutedSms
from tikabot.rehearsal.outage import OutageDriver
from tikabot.rehearsal.csvwrite import write_district
from tikabot.rehearsal.day import Day, plan_sites
from tikabot.rehearsal.district import make_district
from tikabot.rehearsal.report import Report, build_report, channel_figures, unsettled
from tikabot.rehearsal.sms_client import SignedSms
from tikabot.rehearsal.coordinator import ask_coordinator_commands
from tikabot.rehearsal.coordinator_day import DB_NAME, drill, drill_invariants
from tikabot.rehearsal.registry import sync_and_reconcile
from tikabot.rehearsal.stack import REGISTRY_SYSTEM, REGISTRY_TIMEOUT_S, SENDER, USSD_TOKEN, Stack
from tikabot.store.db import make_engine, make_sessionmaker
from tikabot.store.models import Beneficiary, InboundMessage, OutboundMessage

DRAIN_TIMEOUT_S = 180


@dataclass
class Options:
    sites: int = 20
    beneficiaries: int = 2000
    fail_rate: float = 0.05
    seed: int = 1
    workers: int = 2
    kill_workers: int = 0
    restart_redis: bool = False
    out: Path | None = None
    threads: int = 24
    progress: bool = True
    channels: str | None = None  # --channels, rehearsal/channels.py; None: Twilio alone
    down: str | None = None  # --down ROUTE:START-END


def rehearse(opts: Options) -> Report:
    """Raises KeyboardInterrupt on Ctrl-C or SIGTERM, after stopping every process it started."""
    started = time.monotonic()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)
    channels = parse_channels(opts.channels)
    outage = parse_down(opts.down, channels)  # BadSpec before anything starts
    folder = opts.out or Path(tempfile.mkdtemp(prefix="tikabot-rehearsal-"))
    clear_previous(folder)
    stack = Stack(folder, opts.fail_rate, opts.seed, opts.workers)
    chaos = {"worker kills": 0, "redis restarts": 0}
    try:
        stack.start_base()
        phones = india.phone_ids(opts.sites)
        if channels.routed:
            stack.extra_env, stack.sim_config = india.settings(channels, stack.sim_url, stack.web_url, phones)
        today = local_date(now(), Config.from_env(dotenv=False).tz)
        district = make_district(opts.sites, opts.beneficiaries, today, seed=opts.seed)
        engine = make_engine(stack.database_url)
        sessions = make_sessionmaker(engine)
        _say(opts, f"district: {opts.sites} sites, {opts.beneficiaries} beneficiaries; files in {folder}")
        for kind, path in write_district(district, folder / "district").items():
            run_import(sessions, kind, path)
        dlt = None
        if channels.routed:  # before the first domestic SMS, as a district registers its templates
            _say(opts, "DLT: every template exported, approved and imported")
            dlt = india.register_templates(stack.env(), folder / "dlt")
        stack.start_services()
        # The evening before: booking messages and the morning's reminders go out (bulk, throttled)
        # before the first beneficiary arrives, as on a real day.
        _say(opts, "the evening before: booking messages and reminders go out")
        pre_day = time.monotonic()
        _drain(sessions, opts, "messages before the day")
        phases = {"messages before the day": round(time.monotonic() - pre_day, 1)}
        codes = _security_codes(sessions, stack.sim_url)
        sms = SignedSms(stack.web_url, SIMULATOR_AUTH_TOKEN, SIMULATOR_ACCOUNT_SID, SENDER)
        if channels.routed:
            sms = RoutedSms(sms, channels, stack.sim_url, stack.web_url, india.phone_of_staff(district),
                            india.EXOPHONE, india.EXOTEL_TOKEN, india.cdac_pull_url(stack.web_url),
                            india.CDAC_KEYWORD, india.kannel_inbound_url(stack.web_url))
        plans = plan_sites(district, random.Random(opts.seed))
        total = sum(len(p.attending) + len(p.absent) for p in plans)
        driver = OutageDriver(outage, stack.sim_url, stack.redis.url, phones, sms) if outage else None
        with _progress(opts, total) as bar:
            on_progress = bar.update if driver is None else (lambda n: (bar.update(n), driver.progress(n)))
            day = Day(sms, stack.sim_url, codes, opts.seed, on_progress=on_progress, ussd_token=USSD_TOKEN)
            stop = threading.Event()
            chaos_thread = threading.Thread(target=_chaos, args=(stack, opts, stop, chaos), daemon=True)
            chaos_thread.start()
            day_started, day_clock = time.monotonic(), time.time()
            if driver is not None:
                driver.start(total)
            expect = day.run(plans, opts.threads)
            phases["the day"] = round(time.monotonic() - day_started, 1)
            stop.set()
            chaos_thread.join()
        outage_log = driver.finish() if driver is not None else None
        inbound_by_route = dict(getattr(sms, "received", {}))
        sms.close()
        _say(opts, "day played; the coordinator asks the bot, and every message settles")
        coordinator_id = int(next(s["telegram_user_id"] for s in district.staff if s["role"] == "coordinator"))
        bot = ask_coordinator_commands(stack.sim_url, coordinator_id)
        settle = time.monotonic()
        _drain(sessions, opts, "settling every message")
        phases["settling"] = round(time.monotonic() - settle, 1)
        _say(opts, "the day's records go to the registry, and are reconciled")
        registry_started = time.monotonic()
        registry = sync_and_reconcile(sessions, stack.sim_url, Config.from_env(dotenv=False).tz, REGISTRY_TIMEOUT_S,
                                      REGISTRY_SYSTEM)
        phases["registry"] = round(time.monotonic() - registry_started, 1)
        _say(opts, "the uneven day: a coordinator's alerts on an injected clock")
        drill_started = time.monotonic()
        coordinator_day = drill(folder, Config.from_env(dotenv=False).tz)
        phases["coordinator day"] = round(time.monotonic() - drill_started, 1)
        sim_messages = requests.get(f"{stack.sim_url}/_sim/sms", timeout=60).json()  # every provider's
        (folder / "provider-messages.json").write_text(json.dumps(sim_messages, ensure_ascii=False), encoding="utf-8")
        with sessions() as session:
            link_copies(session, sim_messages)  # C-DAC's and NIC's copies named by our id, as the others are
            report = build_report(session, sim_messages, expect, seconds=time.monotonic() - started,
                                  sites=opts.sites, beneficiaries=opts.beneficiaries, chaos=chaos, bot=bot,
                                  registry=registry)
            report.phases_s = phases
            if channels.routed or outage:
                report.channels = channel_figures(session, sim_messages, channels, outage_log, day_clock, dlt,
                                                  inbound_by_route)
                report.channels["unlinked"] = unlinked_copies(sim_messages)
                report.broken += channel_invariants(report.channels)
            report.coordinator_day = coordinator_day
            report.broken += drill_invariants(coordinator_day)
        report.write(folder)
        draw(report, expect.otp_latencies, folder / "report.png")
        engine.dispose()
        return report
    finally:
        stack.stop()


def _interrupt(_signum, _frame):
    raise KeyboardInterrupt


def _chaos(stack: Stack, opts: Options, stop: threading.Event, chaos: dict) -> None:
    rng = random.Random(opts.seed)
    events = ["kill"] * opts.kill_workers + (["redis"] if opts.restart_redis else [])
    rng.shuffle(events)
    for event in events:  # every event happens: during the day, or while the last sends drain
        stop.wait(rng.uniform(1.0, 4.0) if not stop.is_set() else 1.0)
        if event == "kill":
            stack.kill_worker(rng.randrange(100))
            chaos["worker kills"] += 1
        else:
            stack.restart_redis()
            chaos["redis restarts"] += 1


PREVIOUS = ("tikabot.db", "tikabot.db-wal", "tikabot.db-shm", "tikabot.db.writers", "provider-messages.json",
            "report.json", "report.png", "redis", "logs", "district", "dlt", DB_NAME)
MARKER = ".tikabot-rehearsal"  # left in the folder: what is in it is a rehearsal's to clear next time


class NotARehearsalFolder(ValueError):
    """--out names a folder holding files no rehearsal left there."""


def clear_previous(folder: Path) -> None:
    """Remove what an earlier rehearsal left in `folder` (and nothing else): a day played on top of
    yesterday's database would find every dose already recorded and report a day that never was.
    A folder with such files that no rehearsal marked (a real database, say) is refused, not cleared."""
    found = [folder / name for name in PREVIOUS if (folder / name).exists()]
    ours = (folder / MARKER).exists() or ((folder / "report.json").exists() and (folder / "district").is_dir())
    if found and not ours:
        raise NotARehearsalFolder(f"{folder} holds {', '.join(p.name for p in found)}, not left by a rehearsal; "
                                  "choose another --out")
    for path in found:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).write_text("tikabot rehearse writes here and clears its own files on the next run\n")


def _drain(sessions, opts: Options, label: str) -> None:
    """Wait until every message is final (or scheduled for later), showing how many are."""
    deadline = time.monotonic() + DRAIN_TIMEOUT_S + opts.beneficiaries / 50
    with _progress(opts, 0, label) as bar:
        while time.monotonic() < deadline:
            with sessions() as session:  # the workers keep adding messages (reminders, replies)
                total = session.scalar(select(func.count()).select_from(OutboundMessage)) or 0
                open_count = session.scalar(select(func.count()).where(unsettled(now())))
                inbound = session.scalar(select(func.count()).where(InboundMessage.status == "new"))
            bar.set(total - open_count, total + inbound)
            if not open_count and not inbound:  # every inbound message processed, every reply settled
                return
            time.sleep(0.5)


BOOKED_CODE = re.compile(r"(?:Security code|সুরক্ষা কোড|सुरक्षा कोड) (\d{4})")  # appt.booked, en/bn/hi


def _security_codes(sessions, sim_url: str) -> dict[str, str]:
    """Each beneficiary's security code as they would read it out: from the booking SMS their phone
    got (the database keeps only its hash)."""
    with sessions() as session:
        refs = dict(session.execute(select(Beneficiary.phone, Beneficiary.ref)).all())
    codes = {}
    for message in requests.get(f"{sim_url}/_sim/sms", timeout=60).json():
        match = BOOKED_CODE.search(message["body"] or "")
        if match and message["to"] in refs:
            codes[refs[message["to"]]] = match.group(1)
    return codes


def _say(opts: Options, text: str) -> None:
    if opts.progress:
        click.echo(text, err=True)


class _Quiet:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, _n: int) -> None:
        pass

    def set(self, _done: int, _total: int) -> None:
        pass


class _Progress:
    """How far a phase is, on stderr: a bar redrawn in place on a terminal; in a log (CI, a file)
    a line every EVERY_S seconds, so no phase is silent for long either way."""
    EVERY_S = 5.0

    def __init__(self, label: str, total: int):
        self.label, self.total, self.done = label, total, 0
        self.tty = sys.stderr.isatty()
        self.last = 0.0

    def __enter__(self):
        self._show(force=True)
        return self

    def __exit__(self, *exc):
        self._show(force=True)
        if self.tty:
            click.echo("", err=True)
        return False

    def update(self, n: int) -> None:
        self.done = min(self.total, self.done + n)
        self._show()

    def set(self, done: int, total: int) -> None:
        self.done, self.total = done, total
        self._show()

    def _show(self, force: bool = False) -> None:
        moment = time.monotonic()
        if not force and moment - self.last < (0.2 if self.tty else self.EVERY_S):
            return
        self.last = moment
        share = self.done / self.total if self.total else 1.0
        bar = "#" * int(share * 30)
        line = f"{self.label}: [{bar:<30}] {self.done}/{self.total}"
        click.echo(("\r" + line) if self.tty else line, err=True, nl=not self.tty)


def _progress(opts: Options, total: int, label: str = "rehearsing the day"):
    if not opts.progress:
        return _Quiet()
    return _Progress(label, total)
