"""Through a real Kannel (Debian's bearerbox and smsbox) and Kannel's own fake SMSC, on loopback.

`.ci/kannel` starts them and prints the folder of its `kannel.env`; set TIKABOT_TEST_KANNEL to it:

    TIKABOT_TEST_KANNEL=$(.ci/kannel) ./run test tests/handlers/test_kannel_real.py

A vaccinator's Bengali SMS is injected by `fakesmsc` as the operator's SMSC would deliver it; Kannel's
sms-service calls our app's inbound URL; the reply leaves through sendsms and reaches the other
fake SMSC intact; Kannel calls our dlr-url and the reply's status moves to delivered.
"""
from __future__ import annotations

import dataclasses
import os
import re
import subprocess
from datetime import date
from pathlib import Path
from urllib.parse import quote, unquote_to_bytes

import pytest
from sqlalchemy import select

from tests.support.pipeline import running_pipeline
from tests.support.waiting import wait_for
from tests.support.worlds.inbox import kalyani, settle
from tests.support.worlds.small_district import hashed
from tikabot.store.models import Appointment, Beneficiary, InboundMessage, OutboundMessage

pytestmark = pytest.mark.kannel

RUN_DIR = os.environ.get("TIKABOT_TEST_KANNEL")
if not RUN_DIR:
    pytest.skip("no real Kannel: set TIKABOT_TEST_KANNEL=$(.ci/kannel) to run these", allow_module_level=True)

VACCINATOR = "+919800000001"
GOT = re.compile(r"Got message \d+: <(\S+) (\S+) (.*)>")


def kannel_env() -> dict[str, str]:
    lines = (Path(RUN_DIR) / "kannel.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)


ENV = kannel_env()


@pytest.fixture
def kannel_config(config):
    return dataclasses.replace(
        config, routes="default=kannel", kannel_sendsms_url=ENV["SENDSMS_URL"], kannel_username=ENV["USERNAME"],
        kannel_password=ENV["PASSWORD"], kannel_from="WBHLTH", kannel_callback_token=ENV["INBOUND_TOKEN"],
        kannel_timeout=5.0)


class FakeSmsc:
    """The fake SMSC's two sides: `deliver` makes a phone's SMS arrive; `received` what Kannel sent it."""

    def __init__(self):
        self.out = Path(ENV["FAKESMSC_OUT"])
        self.start = self.out.stat().st_size

    def deliver(self, sender: str, text: str, arrived) -> None:
        """fakesmsc sends one UCS-2 SMS from `sender` and is stopped once `arrived()` holds."""
        data = quote(text.encode("utf-16-be"), safe="")
        smsc = subprocess.Popen([ENV["FAKESMSC"], "-H", "127.0.0.1", "-r", ENV["INJECT_PORT"], "-m", "1",
                                 f"{sender.lstrip('+')} 9223166166 ucs2 {data}"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            assert wait_for(arrived, 20), "Kannel did not pass the SMS to tikabot (see smsbox.log)"
        finally:
            smsc.terminate()
            smsc.wait(5)

    def received(self) -> list[tuple[str, str, str]]:
        """(from, to, text) of every SMS Kannel handed the SMSC since this test began; the parts of a
        long SMS (`udh 050003<ref><total><seq> data ...`, UCS-2) joined as the phone joins them."""
        with self.out.open("rb") as f:
            f.seek(self.start)
            lines = f.read().decode("utf-8", "replace").splitlines()
        found, parts = [], {}
        for line in lines:
            match = GOT.search(line)
            if not match:
                continue
            sender, to, rest = match.groups()
            words = rest.split(" ")
            if words[0] == "udh":
                udh, data = unquote_to_bytes(words[1]), unquote_to_bytes(words[3].replace("+", "%20"))
                ref, total, seq = udh[3], udh[4], udh[5]
                key = (sender, to, ref)
                if key not in parts:
                    parts[key] = {}
                    found.append(key)
                parts[key][seq] = data
                if len(parts[key]) == total:
                    whole = b"".join(parts[key][n] for n in range(1, total + 1)).decode("utf-16-be")
                    found[found.index(key)] = (sender, to, whole)
            else:
                raw = unquote_to_bytes(words[1].replace("+", "%20"))
                found.append((sender, to, raw.decode("utf-16-be" if words[0] == "ucs-2" else "utf-8")))
        return [entry for entry in found if len(entry) == 3 and isinstance(entry[2], str)]


def kept(services, sender: str) -> list[InboundMessage]:
    with services.sessions() as s:
        return list(s.scalars(select(InboundMessage).where(InboundMessage.sender == sender)))


def reply_rows(services) -> list[OutboundMessage]:
    with services.sessions() as s:
        return list(s.scalars(select(OutboundMessage).where(OutboundMessage.recipient == VACCINATOR)
                              .order_by(OutboundMessage.id)))


def test_a_bengali_dose_goes_in_through_kannel_and_its_reply_comes_out_and_is_delivered(kannel_config,
                                                                                         start_live_app):
    live = start_live_app(kannel_config, port=int(ENV["INBOUND_PORT"]))
    services = live.services
    site_id = kalyani(services, (VACCINATOR, "মিতা রায়", "bn"))
    with services.transaction() as s:
        person = Beneficiary(ref="12345678", name="রহিমা খাতুন", phone="+919830011111", language="bn",
                             site_id=site_id)
        s.add(person)
        s.flush()
        s.add(Appointment(beneficiary_id=person.id, site_id=site_id, dose_number=1, date=date.today(),
                          slot="09:00-11:00", security_code_hash=hashed(person.id, "4321")))
    smsc = FakeSmsc()
    with running_pipeline(live.config) as pipeline:
        for number, text in enumerate(["শুরু COVISHIELD LOT1", "ডোজ ১২৩৪৫৬৭৮"], start=1):
            smsc.deliver(VACCINATOR, text, lambda n=number: len(kept(services, VACCINATOR)) == n)
            settle(services)
        assert [m.body for m in kept(services, VACCINATOR)] == ["শুরু COVISHIELD LOT1", "ডোজ ১২৩৪৫৬৭৮"]
        assert {m.via for m in kept(services, VACCINATOR)} == {"kannel"}

        replies = reply_rows(services)
        assert len(replies) == 2 and "12345678" in replies[1].body and replies[1].language == "bn"
        sent = lambda: [t for t in smsc.received() if t[1] == VACCINATOR.lstrip("+")]  # noqa: E731
        assert pipeline.settle(lambda: len(sent()) == 2), smsc.received()
        assert [text for _, _, text in sent()] == [r.body for r in replies]  # Bengali, intact
        assert {sender for sender, _, _ in sent()} == {"WBHLTH"}

        assert wait_for(lambda: {r.status for r in reply_rows(services)} == {"delivered"}, 20), \
            [(r.status, r.provider_id) for r in reply_rows(services)]
        assert [r.provider_id for r in reply_rows(services)] == [f"kannel-{r.id}-1" for r in replies]
