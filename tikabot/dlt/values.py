"""The longest real values in a database, and how many messages of each template a day sends,
for `tikabot templates check` to measure segments and cost honestly.

A sample site name is short; a real one ("বসিরহাট মহকুমা হাসপাতাল ও স্বাস্থ্যকেন্দ্র 2") can add a
segment to every booking SMS of that site. So the check fills {site}, {booked_site} and {name}
with the longest each reader would see (the site's name in their language, tikabot.i18n.places;
the first names of the people who read that language), and counts the messages of the last
days in the outbox to price a day.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, inspect, select
from sqlalchemy.engine import Engine, make_url

from tikabot.flows.names import first_name
from tikabot.i18n.catalog import LANGUAGES
from tikabot.i18n.encoding import sms_info
from tikabot.i18n.places import place_name
from tikabot.store.models import Beneficiary, OutboundMessage, Site

VOLUME_DAYS = 7  # the outbox days a day's volume is averaged over


@dataclass(frozen=True)
class Longest:
    """One value per reader's language (the longest they would see); localize() picks theirs."""
    by_lang: dict

    def localize(self, lang: str) -> str:
        return self.by_lang[lang]


@dataclass
class RealValues:
    params: dict = field(default_factory=dict)  # placeholder -> value (Longest, or a plain value)
    per_day: dict = field(default_factory=dict)  # (template, lang) -> messages a day
    described: str = ""


def _units(text: str) -> int:
    return sms_info(text).units


def database_exists(url: str) -> bool:
    """A SQLite file that is not there is no database (and is not created by asking)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return bool(parsed.database) and parsed.database != ":memory:" and Path(parsed.database).is_file()
    return True


def read(engine: Engine, now: datetime) -> RealValues | None:
    """The longest site names and first names per reader's language, and the messages a day per
    template and language; None when the database has no sites yet."""
    if "sites" not in inspect(engine).get_table_names():
        return None
    with engine.connect() as conn:
        sites = [place_name(row) for row in conn.execute(select(Site.name, Site.name_en, Site.name_bn, Site.name_hi))]
        if not sites:
            return None
        people = conn.execute(select(Beneficiary.name, Beneficiary.language)).all()
        since = now - timedelta(days=VOLUME_DAYS)
        volume = conn.execute(select(OutboundMessage.template, OutboundMessage.language, func.count())
                              .where(OutboundMessage.created_at >= since)
                              .group_by(OutboundMessage.template, OutboundMessage.language)).all()
    site = Longest({lang: max((s.localize(lang) for s in sites), key=_units) for lang in LANGUAGES})
    firsts = {lang: [first_name(n) for n, l in people if l == lang] for lang in LANGUAGES}
    everyone = [name for names in firsts.values() for name in names]
    values = RealValues(params={"site": site, "booked_site": site}, described=(
        f"measured with the longest real values: {len(sites)} sites, {len(people)} beneficiaries"))
    if everyone:
        values.params["name"] = Longest({lang: max(firsts[lang] or everyone, key=_units) for lang in LANGUAGES})
    values.per_day = {(template, lang): count / VOLUME_DAYS for template, lang, count in volume}
    return values
