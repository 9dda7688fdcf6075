"""A rehearsal over India's channels: staff on the Android gateway, Exotel for reminders and OTPs,
Twilio as the fallback, and Exotel's account down for a stretch of the day."""
from __future__ import annotations

import json

import pytest

from tikabot.rehearsal.channels import DAY_MINUTES, BadSpec, Channels, parse_channels, parse_down
from tikabot.rehearsal.report import duplicate_sms
from tikabot.rehearsal.run import Options, rehearse

INDIA = "staff=android,reminders=exotel,otp=exotel,fallback=twilio"


@pytest.mark.slow  # a whole rehearsed day
def test_a_small_day_on_india_channels_fails_over_and_keeps_every_invariant(tmp_path):
    report = rehearse(Options(sites=2, beneficiaries=40, fail_rate=0.02, seed=5, workers=2, out=tmp_path,
                              progress=False, threads=4, channels=INDIA, down="exotel:0.2-0.5"))
    assert report.broken == []
    assert 0 < report.doses["expected"] == report.doses["recorded"]  # every dose recorded
    assert report.doses["duplicates"] == report.doses["lost"] == 0
    assert report.duplicate_sms == 0 and report.messages["not_final"] == 0
    channels = report.channels
    assert channels["not_at_provider"] == 0
    routes = channels["by_route"]
    assert routes["android"]["inbound"] > 0 and routes["android"]["sent"] > 0  # staff in and out by the phone
    assert routes["exotel"]["sent"] > 0 and routes["twilio"]["sent"] > 0
    assert set(channels["by_kind"]["reply"]) >= {"android"}
    assert channels["dlt"]["templates"] > 0
    outage = channels["outage"]
    assert outage["noticed"] and outage["began_s"] <= outage["noticed_s"] <= outage["ended_s"]
    events = [(e["route"], e["event"]) for e in channels["failovers"]]
    assert events[0] == ("exotel", "down") and ("exotel", "up") in events  # detected by a real 403, then back
    assert channels["failed_over"] > 0  # Exotel's traffic went by Twilio meanwhile
    table = report.table()
    assert "failover: exotel down" in table and "failover: exotel up" in table
    saved = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert saved["channels"]["failovers"] == channels["failovers"]


@pytest.mark.parametrize("spec, kind, routes", [
    (INDIA, "otp", "exotel,twilio"),
    (INDIA, "reply", "android,twilio"),
    (INDIA, "reminder", "exotel,twilio"),
    ("otp=exotel+android,fallback=twilio", "otp", "exotel,android,twilio"),
    ("staff=android", "reply", "android,twilio"),
])
def test_channels_become_the_workers_routes(spec, kind, routes):
    setting = dict(part.split("=") for part in parse_channels(spec).routes_setting().split(";"))
    assert setting[kind] == routes and setting["default"] == "twilio"


def test_who_texts_which_route():
    channels = parse_channels(INDIA)
    assert channels.inbound_route(staff=True, down=set()) == "android"
    assert channels.inbound_route(staff=True, down={"android"}) == "twilio"  # the phone is off
    assert channels.inbound_route(staff=False, down=set()) == "exotel"  # the reminder's number
    assert parse_channels(None) == Channels() and not Channels().routed


@pytest.mark.parametrize("value, start, end", [("exotel:30-40", 30 / DAY_MINUTES, 40 / DAY_MINUTES),
                                               ("exotel:0.25-0.5", 0.25, 0.5),
                                               ("twilio:0-0.5", 0.0, 0.5)])
def test_down_in_minutes_or_shares_of_the_day(value, start, end):
    outage = parse_down(value, parse_channels(INDIA))
    assert (outage.start, outage.end) == pytest.approx((start, end))


@pytest.mark.parametrize("spec, down, says", [
    ("staff=nokia", None, "unknown route 'nokia'"),
    ("patients=exotel", None, "WHO one of"),
    ("otp=exotel,otp=twilio", None, "named twice"),
    (INDIA, "exotel-30-40", "ROUTE:START-END"),
    (INDIA, "exotel:40-30", "START must come before END"),
    (INDIA, "exotel:400-480", "come back before the day ends"),
    ("otp=exotel", "android:1-2", "carries nothing"),
])
def test_bad_specs_say_what_is_wrong(spec, down, says):
    with pytest.raises(BadSpec, match=says):
        parse_down(down, parse_channels(spec))


def test_one_message_reaching_a_phone_by_two_routes_is_a_duplicate():
    exotel = {"provider": "exotel", "to": "+919830012345", "body": "Code 123456", "outbox_id": "7",
              "final_status": "delivered"}
    twilio = dict(exotel, provider="twilio", body="Code 123456.")
    assert duplicate_sms([exotel, twilio]) == 1
    assert duplicate_sms([exotel, dict(twilio, outbox_id="8")]) == 0
