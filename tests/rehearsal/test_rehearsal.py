"""A small rehearsal in CI: a whole day through the real endpoints, one worker kill, one Redis restart."""
from __future__ import annotations

import json
import re

import pytest

from tikabot.rehearsal.day import Expectation
from tikabot.rehearsal.report import build_report
from tikabot.rehearsal.run import Options, rehearse


@pytest.mark.slow  # a whole rehearsed day
def test_small_rehearsal_with_chaos_keeps_every_invariant(tmp_path, capfd):
    report = rehearse(Options(sites=2, beneficiaries=40, fail_rate=0.05, seed=3, workers=2, kill_workers=1,
                              restart_redis=True, out=tmp_path, progress=True, threads=4))
    progress = capfd.readouterr().err
    for phase in ("messages before the day", "rehearsing the day", "settling every message"):
        assert re.search(rf"^{phase}: \[#{{30}}\] (\d+)/\1$", progress, re.M), progress  # shown, and to its end
    assert report.broken == []
    assert report.chaos == {"worker kills": 1, "redis restarts": 1}
    assert 0 < report.doses["expected"] == report.doses["recorded"]
    assert report.doses["duplicates"] == report.doses["lost"] == 0
    assert report.messages["delivered"] > 0 and report.duplicate_sms == 0
    assert report.ussd_requests > 0  # some doses and appointment checks went over USSD
    assert report.coordinator_bot == {"commands": 5, "answered": 5}
    assert report.severe["reported"] >= 2 and report.severe["not_reached"] == report.severe["not_recorded"] == []
    assert report.severe["reached_by_sms"] == report.severe["recorded"] >= report.severe["reported"]
    assert report.false_complete == 0
    registry = report.registry  # every dose reached the simulator's FHIR registry once, and reconciles
    assert 0 < registry["doses"] == registry["synced"] and registry["upstream_immunizations"] > 0
    assert registry["duplicates_upstream"] == registry["differences"] == 0
    assert f"synced {registry['doses']} of {registry['doses']}" in report.table()
    saved = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert saved["doses"] == report.doses and saved["registry"] == registry
    assert (tmp_path / "report.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_names_a_lost_dose_and_a_duplicate_sms(services):
    expect = Expectation(doses={"1234567890"})
    sim_messages = [{"to": "+919830012345", "body": "same", "created": 1.0},
                    {"to": "+919830012345", "body": "same", "created": 2.0}]
    with services.sessions() as session:
        report = build_report(session, sim_messages, expect, seconds=1, sites=1, beneficiaries=1, chaos={})
    assert report.doses["lost"] == 1
    assert report.duplicate_sms == 1
    assert any("not recorded" in b for b in report.broken)
    assert any("duplicate SMS" in b for b in report.broken)


def test_a_resend_after_an_undelivered_copy_is_not_a_duplicate():
    from tikabot.rehearsal.report import duplicate_sms

    first = {"to": "+919830012345", "body": "Your code 123456", "final_status": "undelivered"}
    again = {"to": "+919830012345", "body": "Your code 123456", "final_status": "delivered"}
    assert duplicate_sms([first, again]) == 0
    assert duplicate_sms([again, dict(again)]) == 1


def test_busiest_window_counts_the_densest_ten_seconds():
    from tikabot.rehearsal.report import busiest_window

    assert busiest_window([0.0, 1.0, 2.0, 30.0, 30.5, 31.0, 32.0, 39.9], 10.0) == 5
    assert busiest_window([], 10.0) == 0


def test_a_retry_waiting_for_its_back_off_is_not_settled_but_tomorrows_reminder_is(services):
    """The rehearsal waits for every message on its way; a retry due in a second is on its way."""
    from datetime import timedelta

    from sqlalchemy import func, select

    from tikabot.core.clock import now
    from tikabot.outbox.messages import add_message
    from tikabot.rehearsal.report import unsettled
    from tikabot.store.models import OutboundMessage

    soon, tomorrow = now() + timedelta(seconds=1), now() + timedelta(days=1)
    with services.transaction() as session:
        retry = add_message(session, key="retry", recipient="+919830012345", template="dose.confirmation",
                            body="Dose 1 recorded.", not_before=soon)
        retry.attempts = 1  # failed once; the back-off put it off for a second
        add_message(session, key="reminder", recipient="+919830012346", template="appt.reminder_eve",
                    body="Your vaccination is tomorrow.", priority="bulk", not_before=tomorrow)
    with services.sessions() as session:
        open_keys = session.scalars(select(OutboundMessage.idempotency_key).where(unsettled(now()))).all()
        assert open_keys == ["retry"]
        assert session.scalar(select(func.count()).where(unsettled(soon + timedelta(seconds=1)))) == 1


def test_a_second_rehearsal_in_the_same_folder_starts_from_nothing(tmp_path):
    """Yesterday's database would make today's doses look recorded already; other files stay."""
    from tikabot.rehearsal.run import MARKER, clear_previous

    clear_previous(tmp_path)  # the first rehearsal marks the folder as its own
    for name in ("tikabot.db", "tikabot.db-wal", "report.json", "provider-messages.json"):
        (tmp_path / name).write_text("earlier run")
    (tmp_path / "redis").mkdir()
    (tmp_path / "redis" / "appendonly.aof").write_text("earlier run")
    (tmp_path / "notes.txt").write_text("mine")
    clear_previous(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([MARKER, "notes.txt"])


def test_a_folder_no_rehearsal_left_is_refused_not_cleared(tmp_path):
    """`--out instance` must never wipe the real database kept there."""
    from click.testing import CliRunner

    from tikabot.cli.main import main

    (tmp_path / "tikabot.db").write_text("the district's real records")
    result = CliRunner().invoke(main, ["rehearse", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "holds tikabot.db, not left by a rehearsal" in result.output
    assert (tmp_path / "tikabot.db").read_text() == "the district's real records"
    assert CliRunner().invoke(main, ["rehearse", "--workers", "0"]).exit_code == 2


def test_an_alert_in_the_coordinators_chat_is_not_taken_for_the_bots_answer():
    from tikabot.rehearsal.coordinator import _answers

    alert = {"method": "sendMessage", "params": {"chat_id": 7, "text": "SEVERE AEFI at Kalyani PHC: REF 1234"}}
    status = {"method": "sendMessage", "params": {"chat_id": 7, "text": "Status 2026-11-26: 2 sites, 1 open"}}
    elsewhere = {"method": "sendPhoto", "params": {"chat_id": 8}}
    assert not _answers([alert], 7, "/status")
    assert _answers([alert, status], 7, "/status")
    assert not _answers([elsewhere], 7, "/chart")


def test_report_names_a_severe_that_reached_nobody_and_a_false_complete(services):
    """A SEVERE whose only SMS the provider never delivered, and a dose 2 'fully vaccinated' with no dose 1."""
    from datetime import datetime, timezone

    from tikabot.outbox.messages import add_message
    from tikabot.store.models import AdverseEvent, Beneficiary, Dose, Site

    at = datetime(2026, 12, 2, 5, 0, tzinfo=timezone.utc)
    with services.transaction() as s:
        site = Site(code="KAL", name="Kalyani PHC")
        s.add(site)
        s.flush()
        person = Beneficiary(ref="1234567890", name="Rahima", phone="+919830011111", site_id=site.id)
        s.add(person)
        s.flush()
        s.add_all([AdverseEvent(beneficiary_id=person.id, site_id=site.id, severity="SEVERE", note="", reported_by="x",
                                created_at=at),
                   Dose(beneficiary_id=person.id, dose_number=2, vaccine="COVISHIELD", lot="L1", site_id=site.id,
                        administered_at=at, source="sms")])
        alert = add_message(s, key="a", recipient="+919830000009", template="alert.severe", body="SEVERE REF 1234567890")
        alert.provider_id = "SMundelivered"
        add_message(s, key="c", recipient=person.phone, template="dose.confirmation_final", body="fully vaccinated",
                    beneficiary_id=person.id)
    sim_messages = [{"sid": "SMundelivered", "to": "+919830000009", "body": "SEVERE REF 1234567890",
                     "final_status": "undelivered", "created": 1.0}]
    with services.sessions() as session:
        report = build_report(session, sim_messages, Expectation(severe={"1234567890"}), seconds=1, sites=1,
                              beneficiaries=1, chaos={})
    assert report.severe["not_reached"] == ["1234567890"] and report.false_complete == 1
    assert any("reached nobody by SMS" in b for b in report.broken)
    assert any("fully vaccinated with a dose not on record" in b for b in report.broken)


def test_the_report_breaks_when_a_dose_is_not_synced_is_doubled_upstream_or_differs(services):
    registry = {"doses": 3, "synced": 2, "duplicates_upstream": 1, "differences": 1,
                "difference_examples": ["differs: ref 1234567890 dose 1 lot tikabot L1 upstream L2"]}
    with services.sessions() as session:
        report = build_report(session, [], Expectation(), seconds=1, sites=1, beneficiaries=1, chaos={},
                              registry=registry)
    assert "synced 2 of 3 dose records to the registry" in report.broken
    assert "1 duplicate records upstream" in report.broken
    assert any(b.startswith("reconcile: 1 differences, e.g. differs") for b in report.broken)


def test_the_report_separates_injected_failures_from_unexpected_ones_and_says_what_it_counts(services):
    from tikabot.outbox.messages import add_message
    from tikabot.rehearsal.chart import figure

    with services.transaction() as session:
        for key, code in (("a", "30003"), ("b", "30003"), ("c", "timeout"), ("d", "21211"), ("e", None)):
            message = add_message(session, key=key, recipient="+919830012345", template="x", body="hello")
            message.status, message.last_error_code = "failed", code
    with services.sessions() as session:
        report = build_report(session, [], Expectation(), seconds=1, sites=1, beneficiaries=1, chaos={})
    assert report.failures == {"injected": {"30003 handset_unreachable": 2, "timeout": 1},
                               "unexpected": {"21211 invalid_number": 1, "no error code": 1}}
    table = " ".join(report.table().split())  # the label column's width follows the longest label
    assert "failed, injected by the simulator 30003 handset_unreachable 2, timeout 1" in table
    assert "failed, not injected (unexpected) 21211 invalid_number 1, no error code 1" in table
    assert "sent: accepted by the provider" in table and "not final: still on its way" in table
    report.by_site_hour = {"S001": {"09": [15, 13], "11": [10, 10]}, "S002": {"13": [5, 0]}}
    fig = figure(report, [0.1, 0.2, 0.2])
    texts = {t.get_text() for ax in fig.axes for t in ax.texts}
    assert {"13/15", "10/10", "0/5"} <= texts  # doses per site per slot hour against due
    assert {"5", "2", "1"} <= texts  # numbers on the bars: messages by status, failures by cause
    failures_ax = next(ax for ax in fig.axes if ax.get_title().startswith("final failures"))
    labels = {t.get_text() for t in failures_ax.get_yticklabels()}
    assert labels == {"30003 handset_unreachable", "timeout", "21211 invalid_number", "no error code"}


def test_a_district_officer_reads_the_verdict_the_arithmetic_the_causes_and_what_next(services):
    from tikabot.outbox.messages import add_message
    from tikabot.rehearsal.chart import figure

    with services.transaction() as session:
        message = add_message(session, key="a", recipient="+919830012345", template="x", body="hello")
        message.status, message.last_error_code = "failed", "30003"
    with services.sessions() as session:
        report = build_report(session, [], Expectation(), seconds=1, sites=20, beneficiaries=2000, chaos={})
    report.broken = []
    report.doses.update(expected=1693, recorded=1693)
    report.severe = {"reported": 3, "recorded": 3, "reached_by_sms": 3, "not_reached": [], "not_recorded": []}
    report.registry = {"doses": 1693, "synced": 1693, "duplicates_upstream": 0, "differences": 0}
    lines = report.table().splitlines()
    assert lines[0] == ("The day held: 1,693 of 1,693 doses recorded, every SEVERE side effect reached an officer "
                        "by SMS, every record reached the registry.")
    text = "\n".join(lines)
    assert "2,000 people were booked at 20 sites" in text and "1,693 expected doses" in text and "307 stayed home" in text
    assert "messages that failed on purpose (the simulator's faults): 1 the phone is switched off or out of reach" in text
    assert "What to do next:" in text and "tikabot phone --telegram" in text
    assert lines[-1] == lines[0] and "For engineers:" in text and "all invariants hold" in text
    report.broken = ["2 reported doses not recorded"]
    assert report.table().splitlines()[0] == "The day did NOT hold: 2 reported doses not recorded."
    report.by_site_hour = {"S001": {"09": [15, 13], "11": [10, 10]}, "S002": {"13": [5, 0]}}
    fig = figure(report, [0.1])
    first = fig.axes[0]
    assert first.get_title() == "doses per site: recorded against due today"
    assert [t.get_text() for t in first.get_legend().get_texts()] == ["due (booked for today)", "doses recorded"]
    assert {"25", "23", "5", "0"} <= {t.get_text() for t in first.texts}
    officer = fig.axes[1]
    assert officer.get_legend() is not None and "SEVERE" in officer.get_title()
