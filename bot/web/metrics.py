"""`GET /metrics` in Prometheus's text format (prometheus-client), names prefixed `siaga112_`.

Each scrape reads one snapshot from the database (counts and histograms aggregated in SQLite:
`bot.store.metrics`) and adds what this process counted since it started (updates handled,
sends by result). With `METRICS_TOKEN` set, the scrape must carry `Authorization: Bearer`.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable, Iterator
from http import HTTPStatus

from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from bot.context import App
from bot.hooks import Counters
from bot.store import MetricsSnapshot
from bot.store.metrics import BUCKETS, Histogram
from models.outbox import OutboxStatus

SEND_RESULTS = ("ok", "429", "4xx", "5xx")


class _Families(Collector):
    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterable[Metric]:
        return iter(self.families)


def _histogram(name: str, documentation: str, by_agency: dict[str, Histogram]) -> Metric:
    family = HistogramMetricFamily(name, documentation, labels=["agency"])
    for agency, histogram in sorted(by_agency.items()):
        buckets = [
            (str(bound), float(n)) for bound, n in zip(BUCKETS, histogram.buckets, strict=True)
        ]
        buckets.append(("+Inf", float(histogram.count)))
        family.add_metric([agency], buckets, histogram.total)
    return family


def families(
    snapshot: MetricsSnapshot,
    counters: Counters,
    backlog: tuple[int, float | None],
    oldest_unacknowledged: float | None,
) -> Iterator[Metric]:
    incidents = GaugeMetricFamily(
        "siaga112_incidents", "Incidents by lifecycle and type", labels=["state", "type"]
    )
    for (state, kind), count in sorted(snapshot.incidents.items()):
        incidents.add_metric([state, kind], count)
    yield incidents
    yield _histogram(
        "siaga112_time_to_acknowledge_seconds",
        "From the report to an agency's acknowledgement",
        snapshot.to_acknowledge,
    )
    yield _histogram(
        "siaga112_time_to_on_scene_seconds",
        "From the report to an agency's first crew on scene",
        snapshot.to_on_scene,
    )
    yield CounterMetricFamily(
        "siaga112_reminders", "Reminders sent to agencies' chats", value=snapshot.reminders
    )
    yield CounterMetricFamily(
        "siaga112_escalations", "Escalations to coordinators", value=snapshot.escalations
    )
    yield GaugeMetricFamily(
        "siaga112_oldest_unacknowledged_seconds",
        "Age of the oldest open call some agency has not acknowledged (0: none)",
        value=oldest_unacknowledged or 0.0,
    )
    pending, oldest_pending = backlog
    yield GaugeMetricFamily("siaga112_outbox_pending", "Messages waiting to be sent", value=pending)
    yield GaugeMetricFamily(
        "siaga112_outbox_oldest_pending_seconds",
        "Age of the oldest message waiting to be sent (0: none)",
        value=oldest_pending or 0.0,
    )
    sends = CounterMetricFamily(
        "siaga112_sends", "Bot API sends by result since the start", labels=["result"]
    )
    for result in SEND_RESULTS:
        sends.add_metric([result], counters.sends.get(result, 0))
    yield sends
    yield CounterMetricFamily(
        "siaga112_updates", "Telegram updates handled since the start", value=counters.updates
    )
    drafts = GaugeMetricFamily(
        "siaga112_drafts_open", "Conversations in progress (reports, calls, broadcasts…)",
        labels=["kind"],
    )  # fmt: skip
    for kind, count in sorted(snapshot.drafts.items()):
        drafts.add_metric([kind], count)
    yield drafts


async def metrics(app: App, request: web.Request) -> web.Response:
    services = app.bot_data.services
    token = services.settings.metrics_token
    if token is not None:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        expected = token.get_secret_value()
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip(), expected):
            return web.Response(status=HTTPStatus.UNAUTHORIZED, text="metrics need the token\n")
    now = services.clock.now()
    # On the database thread: the snapshot counts over every incident (~0.4 s at 100,000),
    # which on the event loop would hold up every update and send meanwhile.
    async with services.store.read(on_thread=True) as tx:
        snapshot = await tx.metrics_snapshot()
        backlog = await tx.outbox_backlog()
    oldest_pending = (
        (now - backlog.oldest_pending_at).total_seconds() if backlog.oldest_pending_at else None
    )
    waiting = snapshot.oldest_unacknowledged
    registry = CollectorRegistry(auto_describe=False)
    registry.register(
        _Families(
            list(
                families(
                    snapshot,
                    services.store.hooks.counters,
                    (backlog.counts.get(OutboxStatus.PENDING, 0), oldest_pending),
                    (now - waiting).total_seconds() if waiting is not None else None,
                )
            )
        )
    )
    return web.Response(
        body=generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
    )
