"""The routes configuration (TIKABOT_ROUTES), the traffic kind of an outbox row, and the plan."""
from __future__ import annotations

import pytest

from tikabot.queue.routes.table import RouteTable, candidates, plan, traffic_kind

FIELD = "otp=exotel,twilio;reply=android,twilio;confirmation=exotel,twilio;reminder=exotel,twilio;alert=twilio"


def test_the_field_configuration():
    table = RouteTable.parse(FIELD)
    assert table.routes_for("otp") == ("exotel", "twilio")
    assert table.routes_for("reply") == ("android", "twilio")
    assert table.routes_for("alert") == ("twilio",)
    assert table.all_routes == ("twilio", "exotel", "android")
    assert table.is_domestic("exotel") and not table.is_domestic("android") and not table.single


@pytest.mark.parametrize("raw", ["", None, "default=twilio", " ; ", "otp=twilio"])
def test_unset_or_twilio_alone_is_one_route(raw):
    table = RouteTable.parse(raw)
    assert table.single and table.routes_for("reminder") == ("twilio",)


def test_default_covers_the_kinds_left_out_and_spacing_and_case_do_not_matter():
    table = RouteTable.parse(" OTP = Exotel , twilio ;\n default=android,twilio")
    assert table.routes_for("otp") == ("exotel", "twilio")
    assert table.routes_for("confirmation") == ("android", "twilio")


@pytest.mark.parametrize("raw, said", [
    ("sms=twilio", "'sms=twilio' must be KIND=ROUTE"),
    ("otp", "'otp' must be KIND=ROUTE"),
    ("otp=", "TIKABOT_ROUTES otp: name at least one route"),
])
def test_a_bad_configuration_is_named(raw, said):
    with pytest.raises(ValueError, match=said):
        RouteTable.parse(raw)


def test_a_route_without_a_sender_is_refused_at_start():
    with pytest.raises(ValueError, match="names exotel but no sender is configured for it"):
        RouteTable.parse("otp=exotel,twilio").check_known({"sms": 1, "voice": 1, "telegram": 1})


@pytest.mark.parametrize("template, priority, kind", [
    ("otp.code", "otp", "otp"),
    ("alert.severe", "otp", "alert"),
    ("alert.send_failures", "default", "alert"),
    ("broadcast", "default", "alert"),
    ("appt.reminder_eve", "bulk", "reminder"),
    ("appt.missed", "bulk", "reminder"),
    ("dose2.due_tomorrow", "bulk", "reminder"),
    ("appt.booked", "default", "confirmation"),
    ("dose.confirmation", "default", "confirmation"),
    ("staff.dose_recorded", "default", "reply"),
    ("ben.confirmed", "default", "reply"),
])
def test_traffic_kind_of_an_outbox_row(template, priority, kind):
    assert traffic_kind(template, priority) == kind


def test_a_reply_goes_first_by_its_inbound_route_other_kinds_by_their_order():
    table = RouteTable.parse(FIELD)
    assert candidates(table, "reply", "twilio") == ["twilio", "android"]
    assert candidates(table, "reply", "nowhere") == ["android", "twilio"]  # not a route we know
    assert candidates(table, "reminder", "android") == ["exotel", "twilio"]


def test_plan_leaves_out_down_routes_but_never_leaves_a_message_nowhere():
    table = RouteTable.parse(FIELD)
    down = {"exotel"}
    assert plan(table, "otp", None, lambda r, trial: r not in down) == ["twilio"]
    down = {"exotel", "twilio"}
    assert plan(table, "otp", None, lambda r, trial: r not in down) == ["exotel", "twilio"]


def test_only_the_first_route_chosen_may_take_a_recovering_routes_trial():
    table = RouteTable.parse("otp=exotel,twilio,android")
    asked = []

    def usable(route, trial):
        asked.append((route, trial))
        return route != "exotel"

    assert plan(table, "otp", None, usable) == ["twilio", "android"]
    assert asked == [("exotel", True), ("twilio", True), ("android", False)]


def test_a_reply_to_a_gateway_phone_goes_back_by_the_gateway_route():
    table = RouteTable.parse("reply=twilio,android")
    # the inbound message's via names the route and the phone: the route is what routing orders by
    assert candidates(table, "reply", "android:kalyani") == ["android", "twilio"]
    assert candidates(table, "reminder", "android:kalyani") == ["twilio"]


def test_with_routes_unset_a_gateway_phone_still_carries_the_replies_to_its_messages():
    from types import SimpleNamespace

    from tikabot.queue.routes.table import table_for

    phone_only = table_for(SimpleNamespace(routes="", dlt_routes="exotel", smsgate_phones=("kalyani",)))
    assert phone_only.routes_for("reply") == ("android", "twilio")
    assert phone_only.routes_for("reminder") == ("twilio",)
    assert table_for(SimpleNamespace(routes="", dlt_routes="exotel", smsgate_phones=())).single


def test_a_gateway_phone_alone_carries_everything_it_is_named_for(config, services):
    """default=android with no other route: every SMS goes by the phone, none silently by Twilio."""
    import dataclasses

    from tikabot.config import GatewayPhone
    from tikabot.queue.routes import send as route_send
    from tikabot.services import Services

    phone = GatewayPhone(id="ranaghat", url="http://127.0.0.1:9", username="sms", password="pw", signing_key="k")
    alone = Services.build(dataclasses.replace(config, routes="default=android", smsgate_phones=(phone,)))
    try:
        router = route_send.build(alone, None)
        assert router is not None and router.table.routes_for("reminder") == ("android",)
        assert route_send.build(services, None) is None  # Twilio alone: no routing, as before
    finally:
        alone.close()
