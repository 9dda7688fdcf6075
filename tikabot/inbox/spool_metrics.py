"""Prometheus metrics of this machine's spool, read at scrape time from its files (the web process
and the workers drain it; only the files know what all of them did)."""
from __future__ import annotations

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from tikabot.core import clock
from tikabot.inbox.spool import Spool, spool_folder


def collect(config):
    folder = spool_folder(config)
    if folder is None:
        return
    spool = Spool(folder)
    set_aside = CounterMetricFamily("tikabot_spool_set_aside", "Inbound messages the database could never store, "
                                    "set aside in the spool's dead-letter file (inbox.spool.dead)")
    set_aside.add_metric([], spool.set_aside_count())
    yield set_aside
    oldest = GaugeMetricFamily("tikabot_spool_oldest_age_seconds",
                               "How long the oldest message still in the spool has waited (0: none)")
    oldest.add_metric([], spool.oldest_age_s(clock.now()) or 0.0)
    yield oldest
