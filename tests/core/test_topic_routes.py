"""Topic routing for KPIs and heartbeats: the per-topic memory answers exactly what filter matching answers."""

from __future__ import annotations

import itertools

from wallctl.core.alarms.feeds import FeedWatch, TopicRoutes, Watch, topic_matches

FILTERS = ["noc/kpi/+/latency", "noc/kpi/#", "noc/events/network/+", "noc/heartbeat", "#", "+/+/+"]
TOPICS = [
    "noc/kpi/core/latency",
    "noc/kpi/core/latency/p99",
    "noc/kpi",
    "noc/events/network/br05-rtr",
    "noc/events/system/x",
    "noc/heartbeat",
    "a/b/c",
    "a/b",
]


def test_routes_answer_what_filter_matching_answers_and_stay_bounded() -> None:
    routes = TopicRoutes((f, i) for i, f in enumerate(FILTERS))
    routes.LIMIT = 3  # type: ignore[misc]
    for topic in itertools.chain(TOPICS, reversed(TOPICS), TOPICS):  # misses, hits, and memory restarts
        want = tuple(i for i, f in enumerate(FILTERS) if topic_matches(f, topic))
        assert routes(topic) == want, topic
        assert len(routes._memo) <= 3


def test_a_topic_heartbeat_is_fed_by_any_topic_under_its_filter() -> None:
    feeds = FeedWatch([Watch("env", 60, topic="noc/env/+/temp")], now=0.0)
    feeds.seen("room-a", "noc/env/room-a/humidity", 50.0)
    assert feeds.silent_for("env", 50.0) == 50.0
    feeds.seen("room-a", "noc/env/room-a/temp", 50.0)
    feeds.seen("room-a", "noc/env/room-a/temp", 55.0)  # the second time from memory
    assert feeds.silent_for("env", 70.0) == 15.0
    assert feeds.check(100.0) == []
    assert [(w.name, stale) for w, stale in feeds.check(116.0)] == [("env", True)]
