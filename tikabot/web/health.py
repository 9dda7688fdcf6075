"""Liveness, readiness and Prometheus metrics."""
from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import text

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    services = current_app.extensions["tikabot"]
    checks = {"database": _check_database(services), "redis": _check_redis(services)}
    ready = all(v == "ok" for v in checks.values())
    return jsonify(status="ready" if ready else "unavailable", checks=checks), 200 if ready else 503


@bp.get("/metrics")
def metrics():
    return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)


def _check_database(services) -> str:
    try:
        with services.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return "ok"
    except Exception as exc:  # any driver error means not ready
        return f"error: {type(exc).__name__}"


def _check_redis(services) -> str:
    if services.redis is None:
        return "error: REDIS_URL not set"
    # a client of its own without retries: readiness must answer now, not after the retry budget
    probe = Redis.from_url(services.config.redis_url, retry=Retry(NoBackoff(), 0), socket_connect_timeout=2)
    try:
        probe.ping()
        return "ok"
    except Exception as exc:
        return f"error: {type(exc).__name__}"
    finally:
        probe.close()
