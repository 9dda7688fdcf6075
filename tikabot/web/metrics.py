"""Prometheus metrics for outbound sending, read at scrape time from the record.

Workers are separate processes, so counters kept in their memory would not reach the web
process's /metrics. The outbox already holds every fact: counts by channel, template and
status, retries (attempts beyond the first), send latency (created -> handed to the provider,
last 10 minutes); and Redis holds the queue depths.
"""
from __future__ import annotations

from datetime import timedelta

from prometheus_client.core import REGISTRY, CounterMetricFamily, GaugeMetricFamily
from sqlalchemy import func, select

from tikabot.core.clock import now
from tikabot.inbox import spool_metrics
from tikabot.outbox.transport import queue_depths, ready_depths
from tikabot.store.models import OutboundMessage

T = OutboundMessage.__table__
SENT = ("accepted", "sent", "delivered")


class OutboxCollector:
    def __init__(self):
        self.services = None

    def collect(self):
        services = self.services
        if services is None:
            return
        by_status = GaugeMetricFamily("tikabot_outbound_messages", "Outbound messages by channel, template and status",
                                      labels=["channel", "template", "status"])
        sent = CounterMetricFamily("tikabot_outbound_sent", "Messages handed to the provider",
                                   labels=["channel", "template"])
        delivered = CounterMetricFamily("tikabot_outbound_delivered", "Messages delivered", labels=["channel", "template"])
        failed = CounterMetricFamily("tikabot_outbound_failed", "Messages finally failed", labels=["channel", "template"])
        retried = CounterMetricFamily("tikabot_outbound_retried", "Send attempts beyond the first",
                                      labels=["channel", "template"])
        with services.sessions() as session:
            rows = session.execute(select(T.c.channel, T.c.template, T.c.status, func.count(),
                                          func.sum(T.c.attempts)).group_by(T.c.channel, T.c.template, T.c.status)).all()
            recent = session.execute(select(T.c.created_at, T.c.sent_at).where(
                T.c.sent_at.is_not(None), T.c.sent_at >= now() - timedelta(minutes=10))
                .order_by(T.c.sent_at.desc()).limit(5000)).all()
        totals: dict = {}
        for channel, template, status, count, attempts in rows:
            by_status.add_metric([channel, template, status], count)
            t = totals.setdefault((channel, template), [0, 0, 0, 0])
            t[0] += count if status in SENT else 0
            t[1] += count if status == "delivered" else 0
            t[2] += count if status == "failed" else 0
            t[3] += max(0, (attempts or 0) - count)
        for (channel, template), (s, d, f, r) in totals.items():
            sent.add_metric([channel, template], s)
            delivered.add_metric([channel, template], d)
            failed.add_metric([channel, template], f)
            retried.add_metric([channel, template], r)
        yield from (by_status, sent, delivered, failed, retried)
        latency = GaugeMetricFamily("tikabot_send_latency_seconds", "Outbox to provider, last 10 minutes",
                                    labels=["quantile"])
        waits = sorted((s - c).total_seconds() for c, s in recent if c and s)
        for q in (0.5, 0.99):
            if waits:
                latency.add_metric([str(q)], waits[min(len(waits) - 1, int(q * len(waits)))])
        yield latency
        yield from spool_metrics.collect(services.config)
        if services.redis is not None:
            depth = GaugeMetricFamily("tikabot_queue_depth", "Jobs waiting per queue", labels=["queue"])
            ready = GaugeMetricFamily("tikabot_queue_ready_messages",
                                      "Messages committed and waiting to be put into jobs, per queue", labels=["queue"])
            try:
                for name, n in queue_depths(services.redis).items():
                    depth.add_metric([name], n)
                for name, n in ready_depths(services.redis).items():
                    ready.add_metric([name], n)
            except Exception:  # Redis down: /readyz says so; metrics still answer
                return
            yield depth
            yield ready


COLLECTOR = OutboxCollector()
_registered = False


def install(services) -> None:
    """Report on these services' outbox (the latest app created in this process)."""
    global _registered
    COLLECTOR.services = services
    if not _registered:
        REGISTRY.register(COLLECTOR)
        _registered = True
