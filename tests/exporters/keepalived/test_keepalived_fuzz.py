"""Property tests: truncated or garbled dumps give `up 0` (a parse error counted) or a clean answer."""

from __future__ import annotations

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from keepalived_fixtures import RECORDED, read

from exporters.core.collect import Collector
from exporters.core.config import Target
from exporters.core.metrics import Family, render, sample_value
from exporters.keepalived.parse import parse_fib_trie, parse_if_inet6, parse_json
from exporters.keepalived.scrape import families_of

FILES = ("keepalived.json", "keepalived.data", "fib_trie", "if_inet6")
SAMPLE = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_]\w*="([^"\\\n]|\\.)*",?)*\})? \S+$')
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def garble(text: str, data: st.DataObject) -> str:
    """Cut the text somewhere, or splice random characters into it."""
    cut = data.draw(st.integers(0, len(text)))
    if data.draw(st.booleans()):
        return text[:cut]
    junk = data.draw(st.text(st.characters(codec="utf-8"), max_size=12))
    return text[:cut] + junk + text[cut + data.draw(st.integers(0, 5)) :]


@FUZZ
@given(st.data(), st.sampled_from(RECORDED))
def test_garbled_dumps_never_raise(data: st.DataObject, recorded: tuple[str, str]) -> None:
    scenario, node = recorded
    texts = {name: read(scenario, node, name) for name in FILES}
    garbled = data.draw(st.sampled_from(FILES))
    texts[garbled] = garble(texts[garbled], data)

    def scrape(target: Target) -> list[Family]:
        return families_of(
            parse_json(texts["keepalived.json"]),
            texts["keepalived.data"],
            parse_fib_trie(texts["fib_trie"].splitlines()),
            parse_if_inet6(texts["if_inet6"].splitlines()),
        )

    collector = Collector("keepalived", [Target("n", "/run/k.pid")], scrape, target_label=True)
    families = collector.collect()
    up = sample_value(families, "keepalived_up", {"target": "n"})
    parse_errors = sample_value(
        families, "keepalived_exporter_scrape_errors_total", {"target": "n", "kind": "parse"}
    )
    internal = sample_value(
        families, "keepalived_exporter_scrape_errors_total", {"target": "n", "kind": "internal"}
    )
    assert internal == 0
    if up == 0:
        assert parse_errors == 1
        assert sample_value(families, "keepalived_vrrp_state", {"target": "n"}) is None
        assert not any(f.name.startswith("keepalived_vrrp") for f in families)
    else:
        assert up == 1 and parse_errors == 0
    for line in render(families).decode().split("\n"):
        assert not line or line.startswith("#") or SAMPLE.match(line), line
