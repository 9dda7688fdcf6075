"""The rehearsal's uneven day for coordinators: what each coordinator got and whether it was acted on."""
from __future__ import annotations

from tikabot.rehearsal.coordinator_day import drill, drill_invariants, drill_table
from tikabot.rehearsal.report import Report


def test_the_uneven_day_ranks_alerts_escalates_and_reports_who_acted(tmp_path):
    found = drill(tmp_path, "Asia/Kolkata")
    assert drill_invariants(found) == []
    assert found["first_in_status"] == ["U01", "U02"]
    assert "SILENT 95 min" in found["status_en"] and "৯৫ মিনিট কোনো রিপোর্ট নেই" in found["status_bn"]
    by = {(a["coordinator"], a["alert"]): a for a in found["alerts"]}
    assert by[("Asha Sen", "no_session")]["acted_on_in_time"] is True
    assert by[("Raj Verma", "severe")]["escalated"] is True  # the state coordinator: nobody took it in 5 minutes
    assert by[("Dipa Roy", "severe")]["acked_by"] is None
    assert ("Raj Verma", "no_session") not in by  # acknowledged in time: never escalated
    table = "\n".join(drill_table(found))
    assert "Raj Verma  severe       nobody" in table
    report = Report(seconds=1, sites=6, beneficiaries=120, inbound_requests=0, coordinator_day=found,
                    otp_latency_s={"p50": 0, "p95": 0, "p99": 0}, inbound_latency_ms={"p50": 0, "p99": 0})
    assert "coordinator alerts on the uneven day" in report.table()
