"""Names and helpers the registry tests share (the fixtures are in conftest.py)."""
from sqlalchemy import select

from tikabot.store.models import Beneficiary, Dose

VACCINATOR, COORDINATOR = "+919830000001", "+919830000009"
TIMEOUT_S = 0.5  # the client's timeout; the simulator's "timeout" faults hold an answer three times longer


def doses(world) -> dict[str, Dose]:
    """Each dose by 'REF/NUMBER'."""
    with world.sessions() as s:
        rows = s.execute(select(Dose, Beneficiary.ref).join(Beneficiary, Dose.beneficiary_id == Beneficiary.id))
        return {f"{ref}/{dose.dose_number}": dose for dose, ref in rows}


def immunizations(upstream) -> list[dict]:
    return upstream.sim.fhir.all("Immunization")


def give_rahima_her_dose(say) -> None:
    assert say(VACCINATOR, "START CS 4120Z025").startswith("Session open")
    assert say(VACCINATOR, "DOSE 12345678").startswith("Recorded: 12345678")
