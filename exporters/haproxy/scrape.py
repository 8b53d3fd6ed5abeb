"""One scrape of one HAProxy: read fresh data, parse it, build the families."""

from __future__ import annotations

import logging
import re
import time

from exporters.core.config import Target
from exporters.core.errors import ConfigError, ParseError, TargetError
from exporters.core.metrics import Family
from exporters.core.values import regex_option
from exporters.haproxy.families import Options, StatFamilies, cert_families, info_families, stat_families
from exporters.haproxy.parse import (
    Certificate,
    parse_cert,
    parse_cert_list,
    parse_info,
    parse_stat,
    split_answers,
)
from exporters.haproxy.source import Address, fetch_csv, parse_address, run_commands, stream_commands
from exporters.haproxy.stream import Answers, StatAnswer

log = logging.getLogger("exporters.haproxy")

_SAFE_FILE = re.compile(r"^[^;\s\\]+$")


def options_of(target: Target) -> Options:
    """The cardinality `Options` of a target (from its exporter options).

    Raises:
        ConfigError: an invalid regex.
    """
    o = target.options
    return Options(
        include=regex_option(o, "include_proxies"),
        exclude=regex_option(o, "exclude_proxies"),
        no_maint=bool(o.get("no_maint", False)),
        proxies_only=bool(o.get("proxies_only", False)),
    )


def check_target(target: Target) -> None:
    """Validate a target's address and options at start.

    Raises:
        ConfigError: bad address or option.
    """
    parse_address(target.address)
    options_of(target)
    known = {"include_proxies", "exclude_proxies", "no_maint", "proxies_only", "ssl_certs"}
    unknown = sorted(set(target.options) - known)
    if unknown:
        raise ConfigError(f"unknown option(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})")


_LOCKED = "currently locked"
_LOCK_RETRY_FIRST = 0.01
_LOCK_RETRY_MAX = 0.2


def _locked(answer: str) -> bool:
    """HAProxy refuses `show ssl cert` while another CLI session holds its certificate lock.

    Two readers of the same HAProxy at once (two Prometheus replicas, two exporter targets on one
    process) meet this; the lock is held for one command, so trying again a moment later works.
    """
    return _LOCKED in answer


def _show(addr: Address, commands: list[str], deadline: float) -> list[str]:
    """Answers to `commands`; the ones refused by the certificate lock are sent again after a
    short, growing pause until they pass or the deadline nears (then they stay refused).

    Raises:
        TargetError, TimeoutError: I/O failure. ParseError: garbled answers.
    """
    answers = [_LOCKED] * len(commands)
    pending = list(range(len(commands)))
    pause = _LOCK_RETRY_FIRST
    first = True
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            if first:
                raise TimeoutError("no time left for show ssl cert")
            return answers  # the ones still refused are skipped by the caller, said so
        try:
            raw = run_commands(addr, [commands[i] for i in pending], left)
            texts = split_answers(raw, len(pending))
        except (TargetError, TimeoutError, ParseError):
            if first:
                raise
            # A retry that fails must not cost the target the families already read.
            return answers
        for i, text in zip(pending, texts, strict=True):
            answers[i] = text
        pending = [i for i in pending if _locked(answers[i])]
        first = False
        if not pending or deadline - time.monotonic() < 2 * pause:
            return answers
        time.sleep(pause)
        pause = min(pause * 2, _LOCK_RETRY_MAX)


def _certificates(addr: Address, listing: str, deadline: float) -> list[Certificate]:
    if _locked(listing):
        try:
            listing = _show(addr, ["show ssl cert"], deadline)[0]
        except (TargetError, TimeoutError, ParseError):
            listing = _LOCKED  # a failed retry of the listing: no certificates this time, said so
    if not listing.startswith("# filename"):
        if _locked(listing):
            log.warning("certificates skipped: HAProxy's certificate lock stayed taken until the deadline")
        return []  # no SSL support, or not allowed at this socket's level
    files = [f for f in parse_cert_list(listing) if _SAFE_FILE.match(f)]
    if not files:
        return []
    try:
        texts = _show(addr, [f"show ssl cert {f}" for f in files], deadline)
    except (TargetError, TimeoutError, ParseError) as exc:
        # The target's info and stats are read already: a certificate read cut short skips the
        # certificates of this scrape, not the target.
        log.warning("certificates skipped: %s", exc)
        return []
    certs = []
    for name, text in zip(files, texts, strict=True):
        try:
            certs.append(parse_cert(text))
        except ParseError as exc:
            # One certificate HAProxy cannot show right now (being updated, a bundle, a lock held
            # past the deadline) must not blank the target's other series: skip it, say so.
            detail = "the certificate lock stayed taken until the deadline" if _locked(text) else exc
            log.warning("certificate %s skipped: %s", name, detail)
    return certs


def scrape(target: Target) -> list[Family]:
    """Read `show info;show stat;show ssl cert` (or the CSV page) and build the families.

    Raises:
        TargetError: I/O failure. ParseError: truncated or garbled answers. TimeoutError.
    """
    deadline = time.monotonic() + target.timeout
    addr = parse_address(target.address)
    opts = options_of(target)
    if addr.kind == "http":
        return stat_families(parse_stat(fetch_csv(addr, target.timeout).rstrip("\n")), opts)
    certs_wanted = bool(target.options.get("ssl_certs", True))
    commands = ["show info", "show stat"] + (["show ssl cert"] if certs_wanted else [])
    stats = StatFamilies(opts)
    # The rows are parsed and their families built while HAProxy writes the rest.
    answers = Answers(len(commands), StatAnswer(stats.add))
    stream_commands(addr, commands, target.timeout, answers.feed, answers.work)
    texts = answers.close()
    families = info_families(parse_info(texts[0])) + stats.families()
    if certs_wanted:
        families += cert_families(_certificates(addr, texts[2], deadline))
    return families
