"""Parallel collection: per-target timeouts, error kinds, persistent error counters, labels."""

import threading
import time
from collections.abc import Iterable

from exporters.core.collect import Collector
from exporters.core.config import Target
from exporters.core.errors import ParseError, TargetError
from exporters.core.metrics import Family, sample_value


class Scraper:
    """A scrape function whose behaviour per target name is chosen by the test."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.calls: list[str] = []

    def __call__(self, target: Target) -> Iterable[Family]:
        self.calls.append(target.name)
        if target.name.startswith("slow"):
            self.release.wait(30)
        if target.name.startswith("refused"):
            raise TargetError("connection refused to postgresql://u:hunter2@db/x")
        if target.name.startswith("garbled"):
            raise ParseError("bad header")
        if target.name.startswith("buggy"):
            raise KeyError("oops")
        fam = Family("t_value", "gauge", "A value.", ("k",))
        fam.add(("v",), len(self.calls))
        return [fam]


def test_slow_target_is_down_within_its_timeout_and_others_are_up() -> None:
    scrape = Scraper()
    targets = [Target("ok", "x"), Target("slow", "x", timeout=0.3), Target("refused", "x")]
    collector = Collector("t", targets, scrape)
    try:
        start = time.monotonic()
        fams = collector.collect()
        took = time.monotonic() - start
    finally:
        scrape.release.set()
        collector.close()
    assert took < 3.0
    assert sample_value(fams, "t_up", {"target": "ok"}) == 1.0
    assert sample_value(fams, "t_up", {"target": "slow"}) == 0.0
    assert sample_value(fams, "t_up", {"target": "refused"}) == 0.0
    assert sample_value(fams, "t_value", {"target": "ok", "k": "v"}) is not None
    assert sample_value(fams, "t_value", {"target": "slow", "k": "v"}) is None
    assert sample_value(fams, "t_exporter_scrape_duration_seconds", {"target": "slow"}) == 0.3
    errors = "t_exporter_scrape_errors_total"
    assert sample_value(fams, errors, {"target": "slow", "kind": "timeout"}) == 1.0
    assert sample_value(fams, errors, {"target": "refused", "kind": "target"}) == 1.0
    assert sample_value(fams, errors, {"target": "ok", "kind": "timeout"}) == 0.0


def test_error_counters_persist_and_classify() -> None:
    scrape = Scraper()
    targets = [Target("garbled", "x"), Target("buggy", "x")]
    collector = Collector("t", targets, scrape)
    try:
        collector.collect()
        fams = collector.collect()
    finally:
        collector.close()
    errors = "t_exporter_scrape_errors_total"
    assert sample_value(fams, errors, {"target": "garbled", "kind": "parse"}) == 2.0
    assert sample_value(fams, errors, {"target": "buggy", "kind": "internal"}) == 2.0
    assert sample_value(fams, errors, {"target": "buggy", "kind": "parse"}) == 0.0


def test_single_flag_target_has_no_target_label_but_keeps_constant_labels() -> None:
    scrape = Scraper()
    collector = Collector("t", [Target("ok", "x", labels={"cluster": "demo"})], scrape, False)
    try:
        fams = collector.collect()
        again = collector.collect()
    finally:
        collector.close()
    assert sample_value(fams, "t_up", {"cluster": "demo"}) == 1.0
    assert sample_value(fams, "t_value", {"cluster": "demo", "k": "v"}) == 1.0
    # every scrape reads fresh data
    assert sample_value(again, "t_value", {"cluster": "demo", "k": "v"}) == 2.0


def test_collect_one_unknown_name_contacts_nothing() -> None:
    scrape = Scraper()
    collector = Collector("t", [Target("ok", "x")], scrape)
    try:
        assert collector.collect_one("elsewhere:9999") is None
        assert scrape.calls == []
        fams = collector.collect_one("ok")
    finally:
        collector.close()
    assert fams is not None
    assert sample_value(fams, "t_up", {"target": "ok"}) == 1.0


def test_failed_scrape_logs_masked_message(caplog) -> None:
    scrape = Scraper()
    collector = Collector("t", [Target("refused", "x")], scrape)
    try:
        with caplog.at_level("WARNING"):
            collector.collect()
    finally:
        collector.close()
    record = caplog.records[-1]
    assert "hunter2" not in record.fields["error"]
    assert "u:***@db" in record.fields["error"]


def test_prometheus_timeout_caps_the_target_timeout() -> None:
    scrape = Scraper()
    collector = Collector("t", [Target("slow", "x", timeout=30)], scrape)
    try:
        start = time.monotonic()
        fams = collector.collect(max_timeout=0.2)
        took = time.monotonic() - start
    finally:
        scrape.release.set()
        collector.close()
    assert took < 3.0
    assert sample_value(fams, "t_up", {"target": "slow"}) == 0.0
    assert sample_value(fams, "t_exporter_scrape_duration_seconds", {"target": "slow"}) == 0.2
