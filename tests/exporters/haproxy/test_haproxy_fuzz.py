"""Property tests: truncated or garbled answers parse, or raise ParseError; nothing else."""

import contextlib
import re

from haproxy_fixtures import read
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exporters.core.errors import ParseError
from exporters.core.metrics import render
from exporters.haproxy.families import info_families, stat_families
from exporters.haproxy.parse import parse_cert, parse_info, parse_stat, split_answers

STAT = read("2.6", "stat.csv")
INFO = read("2.6", "info.txt")
CERT = read("2.6", "ssl_cert.txt")
SAMPLE = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_]\w*="([^"\\\n]|\\.)*",?)*\})? \S+$')
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def garble(text: str, data: st.DataObject) -> str:
    """Cut the text somewhere, or splice random characters into it."""
    cut = data.draw(st.integers(0, len(text)))
    if data.draw(st.booleans()):
        return text[:cut]
    junk = data.draw(st.text(st.characters(codec="utf-8"), max_size=12))
    return text[:cut] + junk + text[cut + data.draw(st.integers(0, 5)) :]


def check_output(families: list) -> None:
    for line in render(families).decode().split("\n"):  # the format's only line break
        assert not line or line.startswith("#") or SAMPLE.match(line), line


@FUZZ
@given(st.data())
def test_stat_parses_or_raises_parse_error(data: st.DataObject) -> None:
    text = garble(STAT, data)
    try:
        families = stat_families(parse_stat(text.rstrip("\n")))
    except ParseError:
        return
    check_output(families)


@FUZZ
@given(st.data())
def test_info_parses_or_raises_parse_error(data: st.DataObject) -> None:
    text = garble(INFO, data)
    try:
        families = info_families(parse_info(text))
    except ParseError:
        return
    check_output(families)


@FUZZ
@given(st.data())
def test_answers_and_certs_parse_or_raise(data: st.DataObject) -> None:
    raw = garble(INFO + STAT + CERT, data)
    try:
        parts = split_answers(raw, 3)
        parse_cert(parts[2])
    except ParseError:
        return
    assert len(parts) == 3


@FUZZ
@given(st.text(max_size=300))
def test_arbitrary_text(text: str) -> None:
    for parse in (parse_stat, parse_info, parse_cert):
        with contextlib.suppress(ParseError):
            parse(text)
