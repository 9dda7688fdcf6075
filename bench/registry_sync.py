"""Benchmark: `tikabot sync` of a district's day to the simulator's FHIR registry on loopback.

N doses (one per beneficiary, 20 sites, 40 vaccinators) in SQLite (WAL, a temp folder). Times the
first sync (every dose and its Patient, Location and Practitioner as conditional creates), a second
sync (nothing to send) and a reconcile; then the same first sync with 5 % of writes failing (half
of them after the write). Prints doses/s, registry requests per dose and duplicates upstream.

    .venv/bin/python bench/registry_sync.py [--doses 2000]
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tikabot.config import Config  # noqa: E402
from tikabot.registry.client import FhirClient  # noqa: E402
from tikabot.registry.reconcile import reconcile  # noqa: E402
from tikabot.registry.resources import Systems  # noqa: E402
from tikabot.registry.settings import RegistrySettings  # noqa: E402
from tikabot.registry.sync import sync  # noqa: E402
from tikabot.services import Services  # noqa: E402
from tikabot.simulator.config import FaultConfig  # noqa: E402
from tikabot.simulator.server import SimulatorThread  # noqa: E402
from tikabot.store.migrate import upgrade  # noqa: E402
from tikabot.store.models import Beneficiary, Dose, Site, Staff  # noqa: E402

AT = datetime(2025, 6, 12, 4, 0, tzinfo=timezone.utc)


def district(services: Services, doses: int) -> None:
    with services.transaction() as s:
        sites = [Site(code=f"S{i:02d}", name=f"Site {i}", district="Nadia", state="WB") for i in range(20)]
        s.add_all(sites)
        s.flush()
        staff = [Staff(phone=f"+9198300{i:05d}", name=f"Vaccinator {i}", role="vaccinator", site_id=sites[i % 20].id)
                 for i in range(40)]
        s.add_all(staff)
        people = [Beneficiary(ref=f"{10_000_000 + i}", name=f"Person {i}", phone=f"+9198310{i:05d}",
                              site_id=sites[i % 20].id) for i in range(doses)]
        s.add_all(people)
        s.flush()
        s.add_all(Dose(beneficiary_id=p.id, dose_number=1, vaccine="COVISHIELD", lot="4120Z025",
                       site_id=sites[i % 20].id, administered_at=AT + timedelta(seconds=i),
                       vaccinator_phone=staff[i % 40].phone, source="paper" if i % 10 == 0 else "sms")
                  for i, p in enumerate(people))


def run(doses: int, fail_rate: float) -> None:
    folder = Path(tempfile.mkdtemp(prefix="tikabot-bench-registry-"))
    services = Services.build(Config(database_url=f"sqlite:///{folder / 'bench.db'}"))
    upgrade(services.engine)
    district(services, doses)
    with SimulatorThread(FaultConfig(fhir_rate_500=fail_rate, fhir_timeout_sleep_s=3)) as sim:
        settings = RegistrySettings(base_url=f"{sim.url}/fhir", timeout_s=2, retry_base_s=0.05, retry_cap_s=1)
        client = FhirClient(settings.base_url, timeout_s=2)
        started = time.perf_counter()
        result = sync(services.sessions, client, settings, "Asia/Kolkata", wait_s=60, rng=random.Random(1))
        first = time.perf_counter() - started
        requests = sim.sim.fhir.stats()["counts"]["requests"]
        started = time.perf_counter()
        again = sync(services.sessions, client, settings, "Asia/Kolkata")
        second = time.perf_counter() - started
        started = time.perf_counter()
        with services.sessions() as session:
            compared, differences = reconcile(session, client, Systems.under(settings.system_for))
        third = time.perf_counter() - started
        client.close()
        stats = sim.sim.fhir.stats()
    services.close()
    label = f"{fail_rate:.0%} of writes failing"
    print(f"{label}: first sync {result.done} doses in {first:.2f} s ({result.done / first:.0f} doses/s, "
          f"{requests / doses:.2f} requests a dose); second sync {again.done} in {second:.2f} s; reconcile "
          f"{compared} doses, {len(differences)} differences in {third:.2f} s; duplicates upstream "
          f"{stats['duplicates']}; faults {dict((k, v) for k, v in stats['counts'].items() if k.startswith('fault'))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--doses", type=int, default=2000)
    args = parser.parse_args()
    run(args.doses, 0.0)
    run(args.doses, 0.05)


if __name__ == "__main__":
    main()
