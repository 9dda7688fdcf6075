"""The DLT brand is the district's setting (TIKABOT_DLT_BRAND, _BN, _HI): a message on a domestic
route (the simulated MSDG API of C-DAC) reaches the phone ending with the configured brand, in the
reader's language; templates approved with an earlier brand no longer match, so the domestic route
refuses them and Twilio carries the message instead, once, and coordinators are told which templates."""
from __future__ import annotations


import pytest
from sqlalchemy import select

from tests.support.dlt import approve_all
from tests.support.pipeline import FAST, outbound_rows as rows
from tests.support.simulator import with_simulated_cdac
from tikabot.dlt.rules import CATALOG
from tikabot.i18n.samples import sample_params
from tikabot.outbox.messages import add_message
from tikabot.queue.routes.health import HealthSettings
from tikabot.simulator.sent import sent_sms
from tikabot.store.models import OutboundMessage, Staff

QUICK = HealthSettings(window_s=30.0, error_rate=0.5, min_errors=3, cooldown_s=30.0, trial_lease_s=2.0)
BRAND = {"en": "Kerala Health", "bn": "কেরল স্বাস্থ্য দপ্তর", "hi": "केरल स्वास्थ्य विभाग"}
CARRIED = ("accepted", "sent", "delivered")


@pytest.fixture
def live(config, simulator, start_live_app):
    return start_live_app(with_simulated_cdac(config, simulator, dlt_brand=BRAND), FAST)


def book(services, languages):
    with services.transaction() as session:
        session.add(Staff(phone="+919830000001", name="Coordinator", role="coordinator", language="en"))
        return [add_message(session, key=f"brand-{lang}", recipient=f"+9198301{i:05d}", template="appt.booked",
                            language=lang, params=sample_params("appt.booked", lang)).id
                for i, lang in enumerate(languages)]




def test_the_configured_brand_ends_each_message_on_a_domestic_route(pipeline, sim):
    services = pipeline.services
    approve_all(services, "WBHLTH")  # registered as `tikabot dlt export` writes it with these settings
    pipeline.runtime.configure_routes("default=cdac,twilio", dlt_routes="cdac", health=QUICK)
    ids = book(services, ("en", "bn", "hi"))
    assert pipeline.settle(lambda: all(r.status in CARRIED for r in rows(services, ids)), timeout=60)

    assert [r.via for r in rows(services, ids)] == ["cdac", "cdac", "cdac"]
    for i, lang in enumerate(("en", "bn", "hi")):
        [received] = sent_sms(sim, to=f"+9198301{i:05d}")
        assert received["provider"] == "cdac"
        assert received["body"].endswith(f" - {BRAND[lang]}"), received["body"]
        assert "WB Health" not in received["body"] and "পঃবঃ" not in received["body"]


def test_templates_approved_with_an_earlier_brand_do_not_go_on_the_domestic_route(pipeline, sim):
    services = pipeline.services
    approve_all(services, "WBHLTH", brand=CATALOG)  # approved while the brand was " - WB Health"
    pipeline.runtime.configure_routes("default=cdac,twilio", dlt_routes="cdac", health=QUICK)
    ids = book(services, ("en",))
    assert pipeline.settle(lambda: all(r.status in CARRIED for r in rows(services, ids)), timeout=60)

    [row] = rows(services, ids)
    assert row.via == "twilio"  # refused on C-DAC: its text no longer matches an approved one
    [received] = sent_sms(sim, to="+919830100000")
    assert received["provider"] == "twilio" and not received["body"].endswith("Health")
    assert pipeline.settle(lambda: any("appt.booked" in (r.body or "") for r in _alerts(services)), timeout=30)


def _alerts(services):
    with services.sessions() as session:
        return list(session.scalars(select(OutboundMessage).where(OutboundMessage.template == "alert.dlt_unregistered")))
