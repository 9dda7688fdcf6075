"""How long /status, /failed, /pending and /chart take to build for a large district (prints figures).

    .venv/bin/python bench/bot_status_speed.py [--sites 200] [--per-site 300]
"""
from __future__ import annotations

import argparse
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from tikabot.core import clock
from tikabot.bot import queries, render
from tikabot.bot.need import ranked
from tikabot.bot.charts import day_summary_chart, plan_chart
from tikabot.config import Config
from tikabot.services import Services
from tikabot.store.migrate import upgrade
from tikabot.store.models import Appointment, Beneficiary, Dose, OutboundMessage, Site, VaccinationSession


def build(services: Services, sites: int, per_site: int) -> None:
    now = clock.now()
    today = clock.local_date(now, services.config.tz)
    with services.transaction() as s:
        rows = [Site(code=f"S{i:04d}", name=f"Site {i}") for i in range(sites)]
        s.add_all(rows)
        s.flush()
        for site in rows:
            s.add(VaccinationSession(site_id=site.id, date=today, vaccine="COVISHIELD", lot="L", opened_by="x"))
            people = [Beneficiary(ref=f"{site.id:05d}{j:07d}", name="P", phone="+919830000000", site_id=site.id)
                      for j in range(per_site)]
            s.add_all(people)
            s.flush()
            for j, person in enumerate(people):
                s.add(Appointment(beneficiary_id=person.id, site_id=site.id, dose_number=1, date=today,
                                  slot="09:00-11:00", security_code_hash="0" * 64))  # a hash; no code verifies here
                if j % 2 == 0:
                    s.add(Dose(beneficiary_id=person.id, dose_number=1, vaccine="COVISHIELD", lot="L",
                               site_id=site.id, administered_at=now - timedelta(minutes=j % 300), source="sms"))
                if j % 25 == 0:
                    s.add(OutboundMessage(idempotency_key=f"k{person.id}", channel="sms", recipient="+91",
                                          template="appt.reminder_morning", body="x", status="failed",
                                          last_error_code="30003", beneficiary_id=person.id))


def timed(label: str, work, repeat: int = 5) -> None:
    start = time.perf_counter()
    for _ in range(repeat):
        work()
    print(f"{label:<32} {(time.perf_counter() - start) / repeat * 1000:8.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sites", type=int, default=200)
    parser.add_argument("--per-site", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        services = Services.build(Config(database_url=f"sqlite:///{Path(folder) / 'bench.db'}"))
        upgrade(services.engine)
        build(services, args.sites, args.per_site)
        tz, now = services.config.tz, clock.now()
        today = clock.local_date(now, tz)
        print(f"{args.sites} sites, {args.sites * args.per_site} appointments, "
              f"{args.sites * args.per_site // 2} doses today (SQLite)")
        with services.sessions() as s:
            timed("/status (query, rank, render)", lambda: render.ranked_lines(
                ranked(queries.site_statuses(s, today, tz, now=now), now), tz))
            timed("/site (one site)", lambda: queries.site_detail(s, "S0007", today, tz, now=now))
            timed("/site CODE remaining", lambda: queries.still_due(s, "S0007", today))
            timed("/failed", lambda: render.failed_lines(queries.failed_messages(s, queries.recent(now))))
            timed("/pending", lambda: queries.pending_sync(s))
            series, _ = queries.chart_series(s, today, tz, now, "bn")
            timed("/chart query", lambda: queries.chart_series(s, today, tz, now, "bn"))
            for lang in ("en", "bn"):
                timed(f"/chart plan PNG ({lang})", lambda: plan_chart(today, series, now, tz, lang), repeat=3)
                timed(f"/chart day PNG ({lang})", lambda: day_summary_chart(today, series, tz, lang), repeat=3)
            print(f"plan chart PNG size (bn): {len(plan_chart(today, series, now, tz, 'bn')) // 1024} KiB")
        services.close()


if __name__ == "__main__":
    main()
