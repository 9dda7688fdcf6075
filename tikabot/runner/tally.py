"""The sites' running counts of doses today, for one round of messages.

A staff reply says how many doses the site has recorded today (`COUNT`, after each `DOSE`). One
round reads the count of every site it touches in one statement, inside its transaction and under
the sites' locks (taken in site order, so two workers never wait on each other in a circle), and
keeps them up to date as its own messages record doses. A dose voided in the round (UNDO) makes
every count be read again before the next message uses it.
"""
from __future__ import annotations

from dataclasses import replace

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from tikabot.core.clock import day_bounds
from tikabot.flows import effects as fx
from tikabot.flows.facts import StaffFacts
from tikabot.store.gate import lock_sites
from tikabot.runner.load import connection
from tikabot.store.models import Dose

_TALLIES = (select(Dose.site_id, Dose.dose_number, func.count())
            .where(Dose.site_id.in_(bindparam("sites", expanding=True)), Dose.voided.is_(False),
                   Dose.administered_at >= bindparam("start"), Dose.administered_at < bindparam("end"))
            .group_by(Dose.site_id, Dose.dose_number))


class RoundTally:
    def __init__(self, session: Session, site_ids, today, tz: str):
        self.session, self.sites = session, sorted(set(site_ids))
        self.bounds = day_bounds(today, tz)
        lock_sites(session, self.sites)
        self.counts: dict[int, dict[int, int]] | None = None

    def _read(self) -> dict[int, dict[int, int]]:
        counts: dict[int, dict[int, int]] = {site_id: {} for site_id in self.sites}
        if self.sites:
            start, end = self.bounds
            for site_id, number, count in connection(self.session).execute(
                    _TALLIES, {"sites": self.sites, "start": start, "end": end}):
                counts[site_id][number] = count
        return counts

    def facts(self, facts: StaffFacts) -> StaffFacts:
        """The staff's facts with their site's count as it stands in this round."""
        if not facts.site_id or facts.site_id not in self.sites:
            return facts
        if self.counts is None:
            self.counts = self._read()
        return replace(facts, doses_today=dict(self.counts[facts.site_id]))

    def applied(self, effects: list, recorded: list[fx.RecordDose]) -> None:
        """After a message's effects: its recorded doses counted; after a void, read again."""
        if any(isinstance(e, fx.VoidDose) for e in effects):
            self.counts = None
            return
        if self.counts is None:
            return
        for dose in recorded:
            if dose.site_id in self.counts:
                site = self.counts[dose.site_id]
                site[dose.dose_number] = site.get(dose.dose_number, 0) + 1
