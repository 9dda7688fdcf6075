"""A substitute vaccinator added on the day (`tikabot staff add`) is answered as staff from their next
SMS, in the site's language, and the addition is audited."""
from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import select

from tests.support.worlds.runner import BN_STAFF, COORDINATOR
from tikabot.cli.main import main
from tikabot.store.models import AuditLog, Staff

SUBSTITUTE = "+919830077777"


def add(world, *args):
    env = {"DATABASE_URL": world.config.database_url, "REDIS_URL": world.config.redis_url}
    return CliRunner().invoke(main, ["staff", "add", *args], env=env)


def test_a_substitute_added_by_cli_is_answered_as_staff_on_their_next_sms(world, say):
    before = say(SUBSTITUTE, "START COVISHIELD LOT1")
    assert before is None or "Session open" not in before  # a stranger's number: not staff yet
    result = add(world, "98300 77777", "--site", "kal", "--name", "Rina  Das")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Rina Das (+91********77): vaccinator at KAL Kalyani PHC, added.")
    assert "+919830077777" not in result.output
    reply = say(SUBSTITUTE, "START COVISHIELD LOT2", minutes=1)
    assert "COVISHIELD" in reply and "LOT2" in reply  # the session is open: staff, at once
    with world.sessions() as s:
        row = s.scalar(select(Staff).where(Staff.phone == SUBSTITUTE))
        audit = s.scalars(select(AuditLog).where(AuditLog.action == "staff.substitute_added")).all()
    assert (row.role, row.active) == ("vaccinator", True)
    assert [(a.detail["site"], a.detail["phone"], a.detail["was"]) for a in audit] == [("KAL", "+91********77", "new")]
    assert audit[0].actor.startswith("cli:")
    again = add(world, SUBSTITUTE, "--site", "KAL", "--name", "Rina Das")
    assert "already there" in again.output


def test_the_substitute_reads_the_sites_language_unless_told(world):
    with world.transaction() as s:  # most of KAL's staff read Bengali now
        s.add(Staff(phone="+919830000011", name="Tumpa", role="vaccinator",
                    site_id=s.scalar(select(Staff.site_id).where(Staff.phone == BN_STAFF)), language="bn"))
    assert add(world, SUBSTITUTE, "--site", "KAL", "--name", "Rina Das").exit_code == 0
    with world.sessions() as s:
        assert s.scalar(select(Staff.language).where(Staff.phone == SUBSTITUTE)) == "bn"


def test_bad_input_is_one_clear_line_and_changes_nothing(world):
    assert "no site 'NOPE'" in add(world, SUBSTITUTE, "--site", "nope", "--name", "X").output
    assert "coordinator's phone" in add(world, COORDINATOR, "--site", "KAL", "--name", "Dr Sen").output
    bad = add(world, "12345", "--site", "KAL", "--name", "X")
    assert bad.exit_code == 1 and "Traceback" not in bad.output
    with world.sessions() as s:
        assert s.scalar(select(Staff).where(Staff.phone == SUBSTITUTE)) is None
        assert s.scalar(select(Staff.role).where(Staff.phone == COORDINATOR)) == "coordinator"
