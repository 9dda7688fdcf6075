"""Coverage-guided fuzzing (atheris) of every place outside input is read.

    python bench/fuzz.py                 # 1,000,000 executions in all, spread over the targets
    python bench/fuzz.py --runs 3000     # a short run (the test suite's)
    python bench/fuzz.py --target sms_parser --runs 50000

Targets: the SMS parser and the staff and beneficiary flows behind it, a USSD menu walk, the
Twilio inbound form, the Twilio status callback, the Africa's Talking USSD form, a Telegram
webhook body, the CSV importer (file reading and every field rule), the gateway phone's (SMS
Gateway for Android) signed webhooks, Exotel's inbound SMS and delivery callbacks, and the dates
`tikabot export doses` and /export take. Each target runs in a process of its own (libFuzzer ends
its process); a target fails when its input raises anything but the target's own "bad input"
error. A message a target reads is also made storable (tikabot/inbox/storable.py) and must then
encode as UTF-8, as the database needs it. Before fuzzing, each target is given its poison cases
(POISON: a NUL, a lone surrogate, 20,000 levels of nesting, a 5,000-digit number, a superscript
digit, the calendar's first and last days), longer than the fuzzer's inputs may grow. Prints
executions and crashes per target, then the total and the wall time; exits 1 on any crash.
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
           "csv_import", "smsgate", "exotel", "export_date")
SMSGATE_KEY = "fuzz-signing-key"
SMSGATE_NOW = 1_700_000_000
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
    if name == "smsgate":
        received = {"event": "sms:received", "payload": {"message": "DOSE 12345678", "phoneNumber": "+919830000001",
                                                         "receivedAt": "2024-06-01T10:00:00.000+05:30"}}
        sent = {"event": "sms:failed", "payload": {"messageId": "tb-12-1", "reason": "RESULT_ERROR_NO_SERVICE"}}
        ping = {"event": "system:ping", "payload": {"health": {"status": "pass"}}}
        return [f"{SMSGATE_NOW}\n".encode() + json.dumps(e).encode() for e in (received, sent, ping)]
    if name == "exotel":
        inbound = {"SmsSid": "b6cf0a3f", "From": "09830000001", "To": "08030000000", "Body": "DOSE 12345678"}
        status = {"SmsSid": "b6cf0a3f", "Status": "failed", "DetailedStatusCode": "30003"}
        return [urlencode(inbound).encode() + b"\n" + urlencode(status).encode() + b"\n" + q
                for q in (b"id=12&attempt=1", b"")]
    if name == "export_date":
        return [b"2025-06-12", b"9999-12-30", b"0001-01-02", b"2021-02-29"]
    if name == "csv_import":
        found = []
        for index, kind in enumerate(KIND_NAMES):
            path = root / "examples" / f"{kind}.csv"
            if path.exists():
                found.append(bytes([index]) + path.read_bytes()[:1500])
        return found
    return []


DEEP = b"[" * 20000 + b"]" * 20000
HUGE = b"9" * 5000


def _signed(body: bytes, stamp: bytes = str(SMSGATE_NOW).encode()) -> bytes:
    return stamp + b"\n" + body


POISON: dict[str, list[bytes]] = {
    "sms_parser": [b"DOSE \x00" + HUGE, "DOSE \u00b2 \u09e8".encode()],
    "twilio_inbound": [b"MessageSid=SM%00&From=%2B9198%00&Body=x", b"MessageSid=SM1&From=" + HUGE + b"&Body=x"],
    "twilio_status": [b"MessageSid=SM%00&MessageStatus=failed&ErrorCode=" + HUGE + b"\nid=" + HUGE],
    "ussd_form": [b"sessionId=AT%00&phoneNumber=%2B919830000001&text=1*%00", b"sessionId=A&phoneNumber=" + HUGE],
    "telegram_update": [DEEP, b'{"update_id": 1, "message": "\\ud800"}', b'{"update_id": ' + HUGE + b"}"],
    "csv_import": ["\x04ref,dose,vaccine,lot,site_code,administered_at,vaccinator_phone,source\n"
                   "0700000001,\u00b2,covaxin,L1,S001,2021-01-16T10:30:00+05:30,,paper\n".encode()],
    "smsgate": [_signed(b"{}", HUGE), _signed(b'{"event": "sms:received", "payload": ' + DEEP + b"}"), _signed(DEEP),
                _signed(b'{"event": "sms:received", "payload": {"message": "\\ud800\\u0000", '
                        b'"phoneNumber": "+91\\ud800", "receivedAt": "x"}}'),
                _signed(b'{"event": "sms:delivered", "payload": {"messageId": "tb-1\\u0000"}}'),
                _signed(b'{"event": "sms:sent", "payload": {"messageId": "tb-' + b"9" * 30 + b'-1"}}')],
    "exotel": [b"SmsSid=e%00&From=0983%00&Body=%00\nSmsSid=e%00&Status=failed&DetailedStatusCode=" + HUGE
               + b"\nid=" + HUGE],
    "export_date": [b"9999-12-31", b"0001-01-01", HUGE, "\u00b2\u00b2\u00b2\u00b2-01-01".encode()],
}


def _target(name: str):
    """The fuzz function for one target (imports are instrumented for coverage by the caller)."""
    import hashlib
    import hmac
    from datetime import date, datetime, timezone

    from tikabot.bot.commands import parse_export_args
    from tikabot.bot.webhook import NotAnUpdate, read_update
    from tikabot.config import GatewayPhone
    from tikabot.registry.doses_csv import BadDay, check_day, dose_filters
    from tikabot.handlers import android_gateway, exotel
    from tikabot.inbox.storable import Unstorable, storable
    from tikabot.flows import beneficiary as ben_flow, staff as staff_flow, ussd_menus
    from tikabot.flows.facts import SenderFacts, StaffFacts
    from tikabot.flows.parse import parse
    from tikabot.handlers import twilio_inbound, ussd_africastalking
    from tikabot.handlers.twilio_sms import BadStatusReport, parse_status
    from tikabot.imports import fields
    from tikabot.imports.csvfile import MalformedFile, rows_from_bytes
    from tikabot.imports.kinds import KINDS
    from tikabot.core.ussd import UssdReply

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

    def kept(message) -> None:
        """What accept() does before the INSERT; what it lets through must encode as UTF-8."""
        try:
            message = storable(message)
        except Unstorable:
            return
        "".join((message.provider_id, message.sender, message.text, message.via)).encode("utf-8")

    phones = (GatewayPhone(id="phone1", url="http://10.0.0.7:8080", username="u", password="p",
                           signing_key=SMSGATE_KEY),)

    def smsgate(data: bytes) -> None:
        stamp, _, body = data.partition(b"\n")
        timestamp = stamp.decode("utf-8", "replace")
        sig = hmac.new(SMSGATE_KEY.encode(), body + timestamp.encode(), hashlib.sha256).hexdigest()
        phone = android_gateway.verified_phone(phones, body, sig, timestamp, SMSGATE_NOW)
        if phone is None:
            return
        try:
            event = android_gateway.parse_event(body)
            if event.name == "sms:received":
                kept(android_gateway.to_message(phone.id, event.payload))
            elif event.name in android_gateway.STATUS_EVENTS:
                android_gateway.to_report(event, "fuzz").provider_id.encode("utf-8")
        except android_gateway.BadWebhook:
            return

    def exotel_target(data: bytes) -> None:
        inbound, _, rest = data.partition(b"\n")
        status, _, query = rest.partition(b"\n")
        try:
            kept(exotel.to_message(_form(inbound)))
        except exotel.BadRequest:
            pass
        try:
            exotel.parse_status(_form(status), _form(query)).provider_id.encode("utf-8")
        except exotel.BadRequest:
            pass

    def export_date(data: bytes) -> None:
        text = data.decode("utf-8", "replace")
        parse_export_args([text], today)  # /export: an answer, whatever the text
        try:
            day = datetime.strptime(text, "%Y-%m-%d").date()  # tikabot export doses --date (click.DateTime)
        except ValueError:
            return
        try:
            check_day(day)
        except BadDay:
            return
        for tz in ("Asia/Kolkata", "Pacific/Kiritimati", "Etc/GMT+12"):
            dose_filters(tz, day)

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
            "csv_import": csv_import, "smsgate": smsgate, "exotel": exotel_target, "export_date": export_date}[name]


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
    for case in POISON.get(name, []):  # raises (and so fails the target) on a poison case it cannot take
        fuzz(case)
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
