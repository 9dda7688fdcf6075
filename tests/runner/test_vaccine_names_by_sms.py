"""A vaccine named with a space in the vaccines file, by SMS through the real runner."""
import pytest
from sqlalchemy import select

from tests.support.vaccine_files import SPUTNIK_V, vaccines_file
from tests.support.worlds.runner import VACCINATOR, transcript
from tikabot.store.models import Dose, OutboundMessage


@pytest.fixture
def sputnik(tmp_path):
    with vaccines_file(tmp_path, SPUTNIK_V):
        yield


def test_session_and_dose_with_sputnik_v(say, world, sputnik):
    transcript(say, VACCINATOR, [
        ("START SPUTNIK V L5", "Session open: SPUTNIK V lot L5. 1 person due today. Send DOSE <REF> for each dose."),
        ("DOSE 12345678", "Recorded: 12345678 (Rahima), dose 1, SPUTNIK V lot L5. Today: 1."),
        ("dose 23456789 1 sputnik v L6", "Recorded: 23456789 (Amit), dose 1, SPUTNIK V lot L6. "
                                         "Booked at Barasat SDH, recorded here. Today: 2."),
    ])
    with world.sessions() as s:
        doses = s.scalars(select(Dose).where(Dose.source == "sms").order_by(Dose.id)).all()
        assert [(d.vaccine, d.lot) for d in doses] == [("SPUTNIK V", "L5"), ("SPUTNIK V", "L6")]
        # each beneficiary is told once (the staff replies go out through the outbox too)
        told = s.scalars(select(OutboundMessage.recipient).where(OutboundMessage.template == "dose.confirmation")).all()
        assert len(told) == 2 and VACCINATOR not in told
