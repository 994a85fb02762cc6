"""Prometheus metrics: the instruments (registry.py), the `/metrics` server (server.py) and
the counting of interactions (interactions.py, the one part that knows discord)."""

from bot.metrics.registry import ERROR, OK, REFUSED, Metrics
from bot.metrics.server import MetricsServer

__all__ = ["ERROR", "OK", "REFUSED", "Metrics", "MetricsServer"]
