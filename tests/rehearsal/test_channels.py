"""A rehearsal over India's channels: staff on the Android gateway, Exotel for reminders and OTPs,
Twilio as the fallback, and Exotel's account down for a stretch of the day."""
from __future__ import annotations

import json

import pytest

from tikabot.config import Config
from tikabot.rehearsal import india
from tikabot.rehearsal.channel_report import channel_invariants, channel_table, link_copies, unlinked_copies
from tikabot.rehearsal.channels import DAY_MINUTES, BadSpec, Channels, parse_channels, parse_down
from tikabot.rehearsal.outage import FAULTS
from tikabot.simulator.cdac_api import PATH as CDAC_PATH
from tikabot.simulator.config import FaultConfig
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


# --- the state's own routes: C-DAC, NIC, Kannel -------------------------------------------------------

GOVERNMENT = "staff=cdac,otp=cdac,reminders=nic,fallback=kannel"


@pytest.mark.slow  # a whole rehearsed day, on the government's rails
@pytest.mark.parametrize("spec, down", [(GOVERNMENT, "cdac:0.2-0.5")])
def test_a_small_day_on_the_states_routes_keeps_every_invariant(tmp_path, spec, down):
    report = rehearse(Options(sites=2, beneficiaries=40, fail_rate=0.02, seed=5, workers=2, out=tmp_path,
                              progress=False, threads=4, channels=spec, down=down))
    assert report.broken == []
    assert 0 < report.doses["expected"] == report.doses["recorded"]  # every dose recorded
    assert report.doses["duplicates"] == report.duplicate_sms == report.messages["not_final"] == 0
    assert report.otp_not_arrived == 0  # every OTP reached its phone by some route
    channels = report.channels
    staff_route, down_route = parse_channels(spec).staff[0], down.split(":")[0]
    routes = channels["by_route"]
    assert routes[staff_route]["inbound"] > 0 and routes[staff_route]["sent"] > 0  # staff in and out by it
    assert channels["by_kind"]["reply"].get(staff_route, 0) > 0  # replies went back on the route they came by
    assert channels["not_at_provider"] == 0
    assert all(cell["twice"] == 0 for cell in channels["unlinked"].values())
    outage = channels["outage"]
    assert outage["noticed"] and outage["began_s"] <= outage["noticed_s"] <= outage["ended_s"]
    events = [(e["route"], e["event"]) for e in channels["failovers"]]
    assert (down_route, "down") in events and (down_route, "up") in events
    assert channels["failed_over"] > 0


KANNEL_STAFF = "staff=kannel,otp=nic,fallback=cdac+twilio"


@pytest.mark.slow  # the whole default day (20 sites, 2,000 people), about 90 s on 2 cores
def test_a_district_day_with_staff_on_kannel_and_kannel_gone_for_a_stretch_holds(tmp_path):
    """tikabot rehearse --channels staff=kannel,otp=nic,fallback=cdac+twilio --down kannel:0.2-0.5: a
    busy two-way route whose smsbox stops answering is taken out of use while its replies still have
    attempts left, and back once smsbox answers; NIC carries the OTPs, and each one NIC reports
    delivered ends delivered, however soon its report comes."""
    report = rehearse(Options(out=tmp_path, progress=False, channels=KANNEL_STAFF, down="kannel:0.2-0.5"))
    assert report.broken == []
    assert 0 < report.doses["expected"] == report.doses["recorded"]
    assert report.doses["duplicates"] == report.duplicate_sms == report.messages["not_final"] == 0
    assert report.otp_not_arrived == 0
    channels = report.channels
    routes = channels["by_route"]
    assert set(channels["by_kind"]["otp"]) == {"nic"}  # every code went by NIC, none fell back
    assert 0 < routes["nic"]["sent"] == routes["nic"]["delivered"]  # none left "accepted"
    assert routes["kannel"]["inbound"] > 0 and routes["kannel"]["failed"] == 0  # no staff reply lost on it
    events = [(e["route"], e["event"]) for e in channels["failovers"]]
    assert events[0] == ("kannel", "down") and events[-1] == ("kannel", "up")
    assert channels["failed_over"] > 0


@pytest.mark.parametrize("spec, kind, routes", [
    (GOVERNMENT, "otp", "cdac,kannel"),
    (GOVERNMENT, "reply", "cdac,kannel"),
    (GOVERNMENT, "reminder", "nic,kannel"),
    ("otp=nic+cdac,fallback=kannel+twilio", "otp", "nic,cdac,kannel,twilio"),
])
def test_the_states_routes_become_the_workers_routes(spec, kind, routes):
    setting = dict(part.split("=") for part in parse_channels(spec).routes_setting().split(";"))
    assert setting[kind] == routes


def test_people_text_a_route_that_can_receive_and_nic_cannot():
    channels = parse_channels(GOVERNMENT)
    assert channels.inbound_route(staff=True, down=set()) == "cdac"  # the state's keyword to 166
    assert channels.inbound_route(staff=True, down={"cdac"}) == "kannel"
    # beneficiaries answer the reminder's number, but NIC takes no SMS in: the next route that does
    assert channels.inbound_route(staff=False, down=set()) == "kannel"
    assert parse_channels("staff=nic,fallback=kannel").inbound_route(staff=True, down=set()) == "kannel"


@pytest.mark.parametrize("value", ["cdac:30-40", "nic:0.25-0.5", "kannel:100-200"])
def test_each_of_the_states_routes_can_go_down(value):
    outage = parse_down(value, parse_channels(GOVERNMENT))
    assert outage.route == value.split(":")[0]


def test_a_route_down_that_carries_nothing_is_refused():
    with pytest.raises(BadSpec, match="nic carries nothing"):
        parse_down("nic:30-40", parse_channels("staff=cdac,fallback=kannel"))
    with pytest.raises(BadSpec, match="unknown route 'msdg'.*cdac, nic, kannel"):
        parse_channels("otp=msdg")


def test_tikabots_settings_and_the_simulators_agree_for_every_route(monkeypatch):
    """The same credentials, header, tokens and report URL on both sides, and a config tikabot starts with."""
    env, sim = india.settings(parse_channels(GOVERNMENT), "http://127.0.0.1:1", "http://127.0.0.1:2", ("phone1",))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    config = Config.from_env(dotenv=False)  # check() refuses settings that cannot work together
    simulator = FaultConfig().updated(sim)
    assert (config.cdac_username, config.cdac_password, config.cdac_secure_key) == (
        simulator.cdac_username, simulator.cdac_password, simulator.cdac_secure_key)
    assert config.cdac_sender_id in simulator.cdac_sender_ids and config.cdac_api_url.endswith(CDAC_PATH)
    assert config.cdac_keyword and "127.0.0.1" in str(config.cdac_pull_sources)
    assert india.cdac_pull_url("http://127.0.0.1:2").endswith(f"token={config.cdac_pull_token}")
    assert (config.nic_username, config.nic_pin) == (simulator.nic_username, simulator.nic_pin)
    assert simulator.nic_dlr_url == f"http://127.0.0.1:2/channels/nic/dlr?token={config.nic_callback_token}"
    assert (config.kannel_username, config.kannel_password) == (simulator.kannel_username, simulator.kannel_password)
    assert india.kannel_inbound_url("http://127.0.0.1:2").endswith(f"token={config.kannel_callback_token}")
    assert {"cdac", "nic"} <= set(config.dlt_routes.split(",")) and "kannel" not in config.dlt_routes


@pytest.mark.parametrize("route", ["exotel", "cdac", "nic", "kannel"])
def test_each_outage_is_a_fault_the_simulator_knows_and_clears(route):
    apply, clear, fault = FAULTS[route]
    assert FaultConfig().updated(apply).updated(clear) == FaultConfig() and fault


def test_a_copy_sent_after_a_lost_answer_on_a_route_that_cannot_be_asked_is_counted_apart():
    """C-DAC's MsgID names the copy tikabot learnt of; the copy whose answer was lost names nothing.
    Judged by message, two "Already recorded" replies are two messages, and the lost copy is a
    duplicate the design allows, counted apart, not a broken invariant."""
    to, body = "+919830012345", "Already recorded: 0700000001."
    sim = [{"provider": "cdac", "sid": "m1", "to": to, "body": body, "outbox_id": None},
           {"provider": "cdac", "sid": "m2", "to": to, "body": body, "outbox_id": None},
           {"provider": "cdac", "sid": "lost", "to": to, "body": "OTP 1234", "outbox_id": None},
           {"provider": "cdac", "sid": "m3", "to": to, "body": "OTP 1234", "outbox_id": None}]

    class Session:  # what the outbox knows: the provider ids it was answered with
        def execute(self, _query):
            return type("Rows", (), {"all": lambda self: [("m1", 1), ("m2", 2), ("m3", 3)]})()

    link_copies(Session(), sim)
    assert [m["outbox_id"] for m in sim] == ["1", "2", None, "3"]
    assert duplicate_sms(sim) == 0
    unlinked = unlinked_copies(sim)
    assert unlinked == {"cdac": {"copies": 1, "twice": 1}}
    assert channel_invariants({"unlinked": unlinked}) == []
    assert channel_invariants({"unlinked": {"kannel": {"copies": 1, "twice": 0}}}) == [
        "1 SMS sent by kannel that tikabot never linked to a message"]


def test_a_route_back_after_the_days_last_message_is_not_called_never_taken_back():
    """A route comes back with the next message that tries it. On a busy machine a small day's
    last SMS went out before the cool-off after the outage ran out: nothing could try the route, and
    the day was called broken for it. Judged only when messages of its traffic came after its return."""
    outage = {"route": "cdac", "began_s": 9.5, "ended_s": 11.9, "noticed": True, "noticed_s": 9.6,
              "planned_minutes": "96-240", "fault": "credits exhausted (403)"}
    went_down = [{"route": "cdac", "event": "down", "reason": "cdac_credits_exhausted", "s_into_day": 9.6,
                  "at": "10:00:00", "forced": False}]
    day = {"outage": outage, "failovers": went_down, "failed_over": 12}
    assert channel_invariants({**day, "needed_after_return": 0}) == []
    assert any("not judged" in line for line in channel_table({**day, "needed_after_return": 0}))
    never = "cdac came back at 11.9 s but was never taken back into rotation"
    assert channel_invariants({**day, "needed_after_return": 3}) == [never]
    back = went_down + [{"route": "cdac", "event": "up", "reason": "", "s_into_day": 14.0, "at": "10:00:04",
                         "forced": False}]
    assert channel_invariants({**day, "failovers": back, "needed_after_return": 3}) == []
