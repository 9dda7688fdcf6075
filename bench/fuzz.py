"""Coverage-guided fuzzing (atheris) of every place outside input is read.

    python bench/fuzz.py                 # 1,000,000 executions in all, spread over the targets
    python bench/fuzz.py --runs 3000     # a short run (the test suite's)
    python bench/fuzz.py --target sms_parser --runs 50000

Targets: the SMS parser and the staff and beneficiary flows behind it, a USSD menu walk, the
Twilio inbound form, the Twilio status callback, the Africa's Talking USSD form, a Telegram
webhook body, and the CSV importer (file reading and every field rule). Each target runs in a
process of its own (libFuzzer ends its process); a target fails when its input raises anything but
the target's own "bad input" error. Prints executions and crashes per target, then the total and
the wall time; exits 1 on any crash.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

TARGETS = ("sms_parser", "ussd_menu", "twilio_inbound", "twilio_status", "ussd_form", "telegram_update",
           "csv_import")
DONE = re.compile(r"Done (\d+) runs in (\d+) second")


def _target(name: str):
    """The fuzz function for one target (imports are instrumented for coverage by the caller)."""
    import atheris
    from datetime import date, datetime, timezone

    from tikabot.bot.webhook import NotAnUpdate, read_update
    from tikabot.flows import beneficiary as ben_flow, staff as staff_flow, ussd_menus
    from tikabot.flows.facts import BeneficiaryFact, SenderFacts, StaffFacts
    from tikabot.flows.parse import parse
    from tikabot.handlers import twilio_inbound, ussd_africastalking
    from tikabot.handlers.twilio_sms import BadStatusReport, parse_status
    from tikabot.imports import fields
    from tikabot.imports.csvfile import MalformedFile, rows_from_bytes
    from tikabot.imports.kinds import KINDS

    now = datetime(2025, 6, 12, 5, 0, tzinfo=timezone.utc)
    today = date(2025, 6, 12)
    staff = StaffFacts(staff_id=1, phone="+919830000001", language="en", site_id=1, site_name="Kalyani PHC",
                       today=today)
    stranger = SenderFacts(phone="+919830099999", language="bn", today=today)

    def sms_parser(data: bytes) -> None:
        fdp = atheris.FuzzedDataProvider(data)
        text = fdp.ConsumeUnicodeNoSurrogates(fdp.remaining_bytes())
        parse(text)
        staff_flow.wanted_ref(None, text, now)
        state, _, _ = staff_flow.step(None, text, staff, now)
        staff_flow.step(state, text, staff, now)
        ben_flow.step(None, text, stranger, now)

    def ussd_menu(data: bytes) -> None:
        fdp = atheris.FuzzedDataProvider(data)
        facts = ussd_menus.MenuFacts(now=now, language=fdp.PickValueInList(["en", "bn", "hi"]),
                                     staff=staff if fdp.ConsumeBool() else None,
                                     sender=None if fdp.ConsumeBool() else stranger,
                                     vaccines=("COVISHIELD", "COVAXIN"))
        inputs = fdp.ConsumeUnicodeNoSurrogates(fdp.remaining_bytes()).split("*")[:12]
        state = None
        for i in range(len(inputs)):
            step = ussd_menus.step(state, inputs[:i + 1], facts)
            if step.screen is None:
                step = ussd_menus.outcome(step.state, [], facts)
            state = step.state
            if step.done:
                break

    def _form(fdp, names) -> dict:
        return {n: fdp.ConsumeUnicode(fdp.ConsumeIntInRange(0, 80)) for n in names if fdp.ConsumeBool()}

    def twilio_inbound_target(data: bytes) -> None:
        fdp = atheris.FuzzedDataProvider(data)
        form = _form(fdp, ("MessageSid", "From", "Body", "To", "NumMedia"))
        try:
            message = twilio_inbound.to_message(form)
        except twilio_inbound.BadRequest:
            return
        twilio_inbound.twiml(message.text).encode("utf-8")

    def twilio_status(data: bytes) -> None:
        fdp = atheris.FuzzedDataProvider(data)
        form = _form(fdp, ("MessageSid", "SmsSid", "MessageStatus", "SmsStatus", "ErrorCode"))
        query = _form(fdp, ("id", "attempt"))
        try:
            parse_status(form, query)
        except BadStatusReport:
            pass

    def ussd_form(data: bytes) -> None:
        fdp = atheris.FuzzedDataProvider(data)
        form = _form(fdp, ("sessionId", "serviceCode", "phoneNumber", "networkCode", "text"))
        try:
            ussd_africastalking.parse_request(form)
        except ussd_africastalking.BadRequest:
            pass

    def telegram_update(data: bytes) -> None:
        try:
            read_update(data, None)
        except NotAnUpdate:
            pass

    def csv_import(data: bytes) -> None:
        fdp = atheris.FuzzedDataProvider(data)
        kind = KINDS[fdp.PickValueInList(sorted(KINDS))]
        try:
            _, rows = rows_from_bytes(fdp.ConsumeBytes(fdp.remaining_bytes()), "fuzz.csv", kind.columns, kind.required)
        except MalformedFile:
            return
        checks = (fields.phone, fields.ref, fields.site_code, fields.dose_number, fields.iso_date, fields.slot,
                  fields.aware_datetime, lambda v: fields.language(v, "bn"))
        for row in rows[:20]:
            for value in row.values():
                for check in checks:
                    try:
                        check(value)
                    except fields.RowError:
                        pass

    return {"sms_parser": sms_parser, "ussd_menu": ussd_menu, "twilio_inbound": twilio_inbound_target,
            "twilio_status": twilio_status, "ussd_form": ussd_form, "telegram_update": telegram_update,
            "csv_import": csv_import}[name]


def run_one(name: str, runs: int) -> None:
    """In this process: fuzz one target for `runs` executions (libFuzzer exits when done)."""
    import atheris

    with atheris.instrument_imports(include=["tikabot"]):
        fuzz = _target(name)
    atheris.Setup([sys.argv[0], f"-runs={runs}", "-max_len=2048", "-rss_limit_mb=1024", "-print_final_stats=0",
                   "-timeout=10"], fuzz)
    atheris.Fuzz()


def run_all(targets: list[str], runs: int, out: Path) -> int:
    share = max(1, -(-runs // len(targets)))  # at least `runs` in all
    total, crashes, start = 0, 0, time.monotonic()
    for name in targets:
        began = time.monotonic()
        log = out / f"fuzz-{name}.log"
        with log.open("w") as fh:
            done = subprocess.run([sys.executable, __file__, "--one", name, "--runs", str(share)], stdout=fh,
                                  stderr=subprocess.STDOUT, cwd=out, env={**os.environ, "PYTHONHASHSEED": "0"})
        text = log.read_text(errors="replace")
        found = DONE.search(text)
        executed = int(found.group(1)) if found else 0
        crashed = done.returncode != 0
        crashes += crashed
        total += executed
        print(f"{name:16} {executed:>9,} executions {time.monotonic() - began:7.1f} s  "
              f"{'CRASH, see ' + str(log) if crashed else '0 crashes'}", flush=True)
    print(f"{'total':16} {total:>9,} executions {time.monotonic() - start:7.1f} s  {crashes} crashes")
    return 1 if crashes else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1_000_000, help="executions in all (split over the targets)")
    parser.add_argument("--target", choices=TARGETS, action="append", help="only these targets")
    parser.add_argument("--out", type=Path, default=None, help="folder for logs and crash files")
    parser.add_argument("--one", choices=TARGETS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        run_one(args.one, args.runs)
        return 0
    out = args.out or Path.cwd() / "fuzz-out"
    out.mkdir(parents=True, exist_ok=True)
    return run_all(args.target or list(TARGETS), args.runs, out)


if __name__ == "__main__":
    sys.exit(main())
