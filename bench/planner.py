"""Benchmark: the reminder planner on a district-sized day (SQLite in WAL mode, a temp folder).

N beneficiaries with appointments spread over 10 days. Times the first planner run (writes the
booking notices and a day of reminders), a second run at the same moment (writes nothing) and
the dry run for tomorrow. Prints rows written and seconds.

    .venv/bin/python bench/planner.py [--people 20000]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tikabot.config import Config  # noqa: E402
from tikabot.reminders.dryrun import day_plan  # noqa: E402
from tikabot.reminders.planner import plan  # noqa: E402
from tikabot.services import Services  # noqa: E402
from tikabot.store.migrate import upgrade  # noqa: E402
from tikabot.store.models import Appointment, Beneficiary, Site  # noqa: E402

START = date(2021, 3, 1)


def fill(services: Services, people: int) -> None:
    with services.transaction() as s:
        sites = [Site(code=f"S{i:03d}", name=f"PHC {i}") for i in range(40)]
        s.add_all(sites)
        s.flush()
        for i in range(people):
            b = Beneficiary(ref=f"{7_000_000_000 + i}", name=f"Person {i}", phone=f"+9198{i:08d}",
                            language=("bn", "en", "hi")[i % 3], site_id=sites[i % 40].id)
            s.add(b)
            s.flush()
            s.add(Appointment(beneficiary_id=b.id, site_id=b.site_id, dose_number=1,
                              date=START + timedelta(days=1 + i % 10), slot="09:00-11:00",
                              security_code_hash=f"{i:064x}"))


def timed(label: str, fn):
    t0 = time.perf_counter()
    result = fn()
    print(f"{label:<34} {time.perf_counter() - t0:7.2f} s   {result}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config = Config(database_url=f"sqlite:///{tmp}/bench.db", extra={"quiet_hours": "21:00-08:00"})
        services = Services.build(config)
        upgrade(services.engine)
        fill(services, args.people)
        now = datetime(2021, 3, 1, 12, 0, tzinfo=ZoneInfo("Asia/Kolkata")).astimezone(timezone.utc)

        def run():
            with services.transaction() as s:
                return plan(s, now, config)
        print(f"{args.people} people, appointments over 10 days")
        timed("first run (writes)", run)
        timed("second run (nothing new)", run)
        with services.sessions() as s:
            timed("dry run for tomorrow (lines)", lambda: len(day_plan(s, START + timedelta(days=1), now, config)))
        services.close()


if __name__ == "__main__":
    main()
