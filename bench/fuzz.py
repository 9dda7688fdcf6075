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
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

TARGETS = ("sms_parser", "ussd_menu", "twilio_inbound", "twilio_status", "ussd_form", "telegram_update",
           "csv_import")
DONE = re.compile(r"Done (\d+) runs in (\d+) second")


KIND_NAMES = ("sites", "staff", "beneficiaries", "appointments", "doses")


def _form(data: bytes) -> dict:
    """A form body as it comes off the wire (application/x-www-form-urlencoded)."""
    from urllib.parse import parse_qsl

    return dict(parse_qsl(data.decode("utf-8", "replace"), keep_blank_values=True))


def seeds(name: str) -> list[bytes]:
    """Real-shaped inputs to start each target from (the fuzzer mutates them)."""
    from urllib.parse import urlencode

    root = Path(__file__).resolve().parent.parent
    inbound = {"MessageSid": "SM" + "a1" * 16, "AccountSid": "AC" + "1" * 32, "From": "+919830000001",
               "To": "+919800000000", "Body": "DOSE 12345678 CS 4120Z025", "NumMedia": "0"}
    texts = ["DOSE 12345678 CS 4120Z025", "START COVISHIELD 4120Z025", "OTP 1234-5678 123456", "VERIFY 12345678",
             "ডোজ ১২৩৪৫৬৭৮ দ্বিতীয়", "डोज़ 12345678 दूसरी", "UNDO", "AEFI 12345678 SEVERE fainted", "YES", "LANG BN",
             "COUNT", "END", "dose 12345678, 2nd, covaxin, L7"]
    if name == "sms_parser":
        return [t.encode() for t in texts]
    if name == "ussd_menu":
        walks = ["1*12345678*1*1*LOT42*1", "4*12345678*1", "4*12345678*2*123456", "2", "3*1", "5*2", "1*0*00",
                 "1*2*3", "3"]
        return [bytes([flags]) + w.encode() for w in walks for flags in (0, 1, 2, 3)]
    if name == "twilio_inbound":
        return [urlencode({**inbound, "Body": t}).encode() for t in texts]
    if name == "twilio_status":
        form = {"MessageSid": "SM" + "a1" * 16, "MessageStatus": "undelivered", "ErrorCode": "30003"}
        return [urlencode(form).encode() + b"\n" + q for q in (b"id=12&attempt=1", b"id=99999999999999999999", b"")]
    if name == "ussd_form":
        form = {"sessionId": "ATUid_1", "serviceCode": "*384*1234#", "phoneNumber": "+919830000001",
                "networkCode": "40410", "text": "1*12345678*1"}
        return [urlencode(form).encode(), urlencode({**form, "text": ""}).encode()]
    if name == "telegram_update":
        user = {"id": 111, "is_bot": False, "first_name": "Asha"}
        message = {"message_id": 5, "date": 1700000000, "chat": {"id": 111, "type": "private"}, "from": user,
                   "text": "/status", "entities": [{"type": "bot_command", "offset": 0, "length": 7}]}
        callback = {"id": "9", "from": user, "chat_instance": "1", "data": "retry:all", "message": message}
        return [json.dumps(u).encode() for u in ({"update_id": 1, "message": message},
                                                 {"update_id": 2, "callback_query": callback},
                                                 {"update_id": 3, "edited_message": message})]
    if name == "csv_import":
        found = []
        for index, kind in enumerate(KIND_NAMES):
            path = root / "examples" / f"{kind}.csv"
            if path.exists():
                found.append(bytes([index]) + path.read_bytes()[:1500])
        return found
    return []


def _target(name: str):
    """The fuzz function for one target (imports are instrumented for coverage by the caller)."""
    from datetime import date, datetime, timezone

    from tikabot.bot.webhook import NotAnUpdate, read_update
    from tikabot.flows import beneficiary as ben_flow, staff as staff_flow, ussd_menus
    from tikabot.flows.facts import SenderFacts, StaffFacts
    from tikabot.flows.parse import parse
    from tikabot.handlers import twilio_inbound, ussd_africastalking
    from tikabot.handlers.twilio_sms import BadStatusReport, parse_status
    from tikabot.imports import fields
    from tikabot.imports.csvfile import MalformedFile, rows_from_bytes
    from tikabot.imports.kinds import KINDS
    from tikabot.runner.ussd import UssdReply

    now = datetime(2025, 6, 12, 5, 0, tzinfo=timezone.utc)
    today = date(2025, 6, 12)
    staff = StaffFacts(staff_id=1, phone="+919830000001", language="en", site_id=1, site_name="Kalyani PHC",
                       today=today)
    stranger = SenderFacts(phone="+919830099999", language="bn", today=today)

    def sms_parser(data: bytes) -> None:
        text = data.decode("utf-8", "replace")
        parse(text)
        staff_flow.wanted_ref(None, text, now)
        state, _, _ = staff_flow.step(None, text, staff, now)
        staff_flow.step(state, text, staff, now)
        ben_flow.step(None, text, stranger, now)

    def ussd_menu(data: bytes) -> None:
        flags = data[0] if data else 0
        facts = ussd_menus.MenuFacts(now=now, language=("en", "bn", "hi", "en")[flags >> 2 & 3],
                                     staff=staff if flags & 1 else None, sender=None if flags & 2 else stranger,
                                     vaccines=("COVISHIELD", "COVAXIN"))
        inputs = data[1:].decode("utf-8", "replace").split("*")[:12]
        state = None
        for i in range(len(inputs)):
            step = ussd_menus.step(state, inputs[:i + 1], facts)
            if step.screen is None:
                step = ussd_menus.outcome(step.state, [], facts)
            state = step.state
            if step.done:
                break

    def twilio_inbound_target(data: bytes) -> None:
        try:
            message = twilio_inbound.to_message(_form(data))
        except twilio_inbound.BadRequest:
            return
        twilio_inbound.twiml(message.text).encode("utf-8")

    def twilio_status(data: bytes) -> None:
        form, _, query = data.partition(b"\n")
        try:
            parse_status(_form(form), _form(query))
        except BadStatusReport:
            pass

    def ussd_form(data: bytes) -> None:
        try:
            request = ussd_africastalking.parse_request(_form(data))
        except ussd_africastalking.BadRequest:
            return
        ussd_africastalking.render_reply(UssdReply(" ".join(request.inputs), end=False)).encode("utf-8")

    def telegram_update(data: bytes) -> None:
        try:
            read_update(data, None)
        except NotAnUpdate:
            pass

    today = now.date()  # relative appointment dates (today, today+N) count from it

    def csv_import(data: bytes) -> None:
        kind = KINDS[KIND_NAMES[(data[0] if data else 0) % len(KIND_NAMES)]]
        try:
            _, rows = rows_from_bytes(data[1:], "fuzz.csv", kind.columns, kind.required)
        except MalformedFile:
            return
        checks = (fields.phone, fields.ref, fields.site_code, fields.dose_number,
                  lambda v: fields.booking_date(v, today), fields.slot,
                  lambda v: fields.yes_no(v, "voided"),
                  fields.aware_datetime, lambda v: fields.language(v, "bn"))
        for _, row in rows[:20]:
            for value in row.values():
                for check in checks:
                    try:
                        check(value)
                    except fields.RowError:
                        pass

    return {"sms_parser": sms_parser, "ussd_menu": ussd_menu, "twilio_inbound": twilio_inbound_target,
            "twilio_status": twilio_status, "ussd_form": ussd_form, "telegram_update": telegram_update,
            "csv_import": csv_import}[name]


# Where the coverage that guides each target lives: our code, and for Telegram the library that
# reads the update's fields.
INSTRUMENT = {"telegram_update": ["tikabot", "telegram"]}


def run_one(name: str, runs: int, corpus: Path) -> None:
    """In this process: fuzz one target for `runs` executions (libFuzzer exits when done), starting
    from the seeds written to `corpus` (where it also keeps the inputs that found new coverage)."""
    import atheris

    corpus.mkdir(parents=True, exist_ok=True)
    for i, seed in enumerate(seeds(name)):
        (corpus / f"seed-{i}").write_bytes(seed)
    with atheris.instrument_imports(include=INSTRUMENT.get(name, ["tikabot"])):
        fuzz = _target(name)
    atheris.Setup([sys.argv[0], f"-runs={runs}", "-max_len=2048", "-rss_limit_mb=1024", "-timeout=10",
                   str(corpus)], fuzz)
    atheris.Fuzz()


def run_all(targets: list[str], runs: int, out: Path) -> int:
    share = max(1, -(-runs // len(targets)))  # at least `runs` in all
    total, crashes, start = 0, 0, time.monotonic()
    for name in targets:
        began = time.monotonic()
        log = out / f"fuzz-{name}.log"
        with log.open("w") as fh:
            done = subprocess.run([sys.executable, __file__, "--one", name, "--runs", str(share),
                                   "--out", str(out / f"corpus-{name}")], stdout=fh,
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
        run_one(args.one, args.runs, args.out)
        return 0
    out = args.out or Path.cwd() / "fuzz-out"
    out.mkdir(parents=True, exist_ok=True)
    return run_all(args.target or list(TARGETS), args.runs, out)


if __name__ == "__main__":
    sys.exit(main())
