"""The DOSE path, measured: one staff SMS "DOSE <ref> 1" from Twilio's signed webhook to the reply
handed to the provider, traced function by function in the process that runs it.

    python bench/dose_path.py [--list]

Prints how many tikabot functions and files the message passes (the simulator runs in its own
process and is not counted), and with --list every file in the order it is first reached. The
README's "How an inbound message travels" names the stops a newcomer follows; this counts what is
underneath them. The staff member's START (which opens the site's session) runs untraced first.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from harness import ACCOUNT_SID, AUTH_TOKEN, Stack  # noqa: E402
from rq import SimpleWorker  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

from tikabot.app import create_app  # noqa: E402
from tikabot.imports.runner import run_import  # noqa: E402
from tikabot.inbox import worker as inbox_worker  # noqa: E402
from tikabot.outbox import transport  # noqa: E402
from tikabot.queue import runtime

PACKAGE = str(ROOT / "tikabot")
STAFF, REF = "+918161973069", "0700000001"  # examples/: a vaccinator of S001 and a person booked there


class Trace:
    def __init__(self):
        self.functions: dict[tuple[str, str], int] = {}
        self.files: list[str] = []

    def __call__(self, frame, event, arg):
        if event != "call":
            return
        code = frame.f_code
        if not code.co_filename.startswith(PACKAGE) or code.co_name.startswith("<"):
            return  # comprehensions, lambdas and module bodies are not stops
        key = (code.co_filename, code.co_qualname)
        if key not in self.functions:
            self.functions[key] = len(self.functions)
            if code.co_filename not in self.files:
                self.files.append(code.co_filename)


def post_sms(client, url: str, sender: str, text: str, sid: str):
    form = {"MessageSid": sid, "From": sender, "To": "+15005550006", "Body": text, "AccountSid": ACCOUNT_SID}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, form)
    return client.post("/sms/inbound", data=urlencode(form), headers={
        "X-Twilio-Signature": signature, "Content-Type": "application/x-www-form-urlencoded"})


def deliver(services, client, url: str, text: str, sid: str) -> None:
    """Webhook, inbox worker, ready list to job, the send job: the whole path of one message."""
    assert post_sms(client, url, STAFF, text, sid).status_code == 200
    inbox_worker.burst(services)
    transport.move_all_ready(services.redis)
    queues = [transport.Queue(name, connection=services.redis) for name in transport.QUEUE_NAMES]
    SimpleWorker(queues, connection=services.redis).work(burst=True, logging_level="WARNING")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true", help="every file in the order it is first reached")
    args = parser.parse_args()
    stack = Stack(send_rate=100.0, public_base_url="http://tikabot.test")
    try:
        config = stack.config
        app = create_app(config)
        services = app.extensions["tikabot"]
        for kind in ("sites", "staff", "beneficiaries", "appointments"):
            run_import(services.sessions, kind, ROOT / "examples" / f"{kind}.csv")
        runtime.install(services)
        client, url = app.test_client(), "http://tikabot.test/sms/inbound"
        deliver(services, client, url, "START COVISHIELD LOT42", "SM" + "1" * 32)
        trace = Trace()
        sys.setprofile(trace)
        try:
            deliver(services, client, url, f"DOSE {REF} 1", "SM" + "2" * 32)
        finally:
            sys.setprofile(None)
        with services.sessions() as session:
            from sqlalchemy import text
            reply = session.execute(text("SELECT template, status FROM outbound_messages "
                                         "WHERE idempotency_key = :k"), {"k": "reply-SM" + "2" * 32}).one()
        runtime.uninstall()
        print(f"DOSE reply: {reply[0]} ({reply[1]})")
        print(f"functions: {len(trace.functions)}   files: {len(trace.files)}")
        if args.list:
            for path in trace.files:
                print("  ", Path(path).relative_to(ROOT))
    finally:
        stack.close()


if __name__ == "__main__":
    main()
