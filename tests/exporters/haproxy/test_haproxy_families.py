"""Our families on recorded answers: promex's names, types, labels and values; filters."""

import math
import re
import shutil
import subprocess

import pytest
from haproxy_fixtures import VERSIONS, read
from promex_compare import missing_families, samples

from exporters.core.metrics import Family, render, sample_value
from exporters.haproxy.families import Options, cert_families, info_families, stat_families
from exporters.haproxy.parse import parse_cert, parse_info, parse_stat

# Values promex computes at its own scrape time (uptime, traffic of the scrape itself...).
MOVING = re.compile(
    r"uptime|last_change|downtime|_rate|connections_total|current_connections|current_sessions"
    r"|sessions_total|requests_total|bytes_out|bytes_in|pool_|tasks|run_queue|idle_time"
    r"|max_sessions|intercepted|check_duration|http_responses_total|last_session"
    r"|time_average|max_.*_time|connection_attempts|loadbalanced|connection_reuses"
    # promex counts the last check of servers in MAINT; `show stat` hides it (documented)
    r"|agg_check_status"
)


def build(version: str, opts: Options | None = None) -> list[Family]:
    fams = info_families(parse_info(read(version, "info.txt")))
    fams += stat_families(parse_stat(read(version, "stat.csv").rstrip("\n")), opts)
    if version == "2.6":
        fams += cert_families([parse_cert(read(version, "ssl_cert.txt"))])
    return fams


def test_every_promex_family_of_the_recording_is_ours() -> None:
    promex = read("2.6", "promex.txt")
    ours = render(build("2.6")).decode()
    assert missing_families(promex, ours) == []


def test_values_equal_promex_where_they_do_not_move() -> None:
    theirs = samples(read("2.6", "promex.txt"))
    mine = samples(render(build("2.6")).decode())
    compared = 0
    for key, value in theirs.items():
        if MOVING.search(key[0]) or key not in mine:
            continue
        compared += 1
        other = mine[key]
        assert other == value or (math.isnan(other) and math.isnan(value)), key
    assert compared > 400
    # the series sets differ only by what moves, the extras and the documented absences
    status = {k for k in theirs if k[0].endswith("_status")}
    assert status <= set(mine)


def test_states_and_extras() -> None:
    fams = build("2.6")
    srv = "haproxy_server_status"
    assert sample_value(fams, srv, {"proxy": "app", "server": "a4", "state": "DRAIN"}) == 1
    assert sample_value(fams, srv, {"proxy": "app", "server": "a5", "state": "MAINT"}) == 1
    assert sample_value(fams, srv, {"proxy": "app", "server": "a6", "state": "UP"}) == 1
    assert sample_value(fams, srv, {"proxy": "app", "server": "a3", "state": "DOWN"}) == 1
    chk = "haproxy_server_check_status"
    assert sample_value(fams, chk, {"proxy": "app", "server": "a3", "state": "L4CON"}) == 1
    assert sample_value(fams, chk, {"proxy": "app", "server": "a6", "state": "L7OK"}) is None
    assert sample_value(fams, "haproxy_server_weight", {"proxy": "app", "server": "a2"}) == 0
    assert sample_value(fams, "haproxy_server_uweight", {"proxy": "app", "server": "a2"}) == 0
    assert sample_value(fams, "haproxy_server_backup", {"proxy": "app", "server": "b1"}) == 1
    assert sample_value(fams, "haproxy_server_active", {"proxy": "app", "server": "b1"}) == 0
    agg = "haproxy_backend_agg_server_status"
    expected = {"UP": 4, "DOWN": 1, "MAINT": 1, "DRAIN": 1, "NOLB": 0}
    for state, count in expected.items():
        assert sample_value(fams, agg, {"proxy": "app", "state": state}) == count
    code = "haproxy_frontend_http_responses_total"
    assert sample_value(fams, code, {"proxy": "web", "code": "2xx"}) == 11
    assert sample_value(
        fams, "haproxy_server_queue_time_average_seconds", {"proxy": "app", "server": "a1"}
    ) == pytest.approx(0.0)
    expiry = "haproxy_ssl_certificate_expiry_timestamp_seconds"
    labels = {"file": "/etc/haproxy/certs/site.pem", "subject": "/CN=web.example.test"}
    assert sample_value(fams, expiry, labels) == parse_cert(read("2.6", "ssl_cert.txt")).not_after


@pytest.mark.parametrize("version", VERSIONS)
def test_older_versions_give_what_their_columns_hold(version: str) -> None:
    fams = {f.name: f for f in build(version) if len(f)}
    assert "haproxy_server_status" in fams
    assert "haproxy_backend_http_responses_total" in fams
    assert ("haproxy_server_internal_errors_total" in fams) is (version != "1.8")
    assert ("haproxy_server_uweight" in fams) is (version in ("2.4", "2.6"))
    assert ("haproxy_process_start_time_seconds" in fams) is (version == "2.6")
    # older versions give megabytes; we still export bytes
    assert "haproxy_process_max_memory_bytes" in fams


def test_filters_and_proxies_only() -> None:
    table = parse_stat(read("2.6", "stat.csv").rstrip("\n"))
    only_app = stat_families(table, Options(include=re.compile("app")))
    assert {lbl["proxy"] for f in only_app for lbl, _ in f.samples()} == {"app"}
    no_web = stat_families(table, Options(exclude=re.compile("web|prom")))
    assert {lbl["proxy"] for f in no_web for lbl, _ in f.samples()} == {"app", "tcpb"}
    no_maint = stat_families(table, Options(no_maint=True))
    servers = {lbl.get("server") for f in no_maint for lbl, _ in f.samples()}
    assert "a5" not in servers and "a4" in servers
    agg = "haproxy_backend_agg_server_status"
    assert sample_value(no_maint, agg, {"proxy": "app", "state": "MAINT"}) == 1
    proxies = stat_families(table, Options(proxies_only=True))
    assert all("server" not in lbl for f in proxies for lbl, _ in f.samples())
    assert sample_value(proxies, agg, {"proxy": "app", "state": "UP"}) == 4


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed")
@pytest.mark.parametrize("version", VERSIONS)
def test_promtool_is_silent(version: str) -> None:
    body = render(build(version))
    res = subprocess.run(
        ["promtool", "check", "metrics"], input=body, capture_output=True, timeout=60, check=False
    )
    assert (res.returncode, res.stdout + res.stderr) == (0, b"")


def test_milliseconds_become_seconds_exactly() -> None:
    from exporters.haproxy.columns import seconds

    assert seconds(["0", "5", "42", "1000", "1234", "12.5"]) == [
        "0",
        "0.005",
        "0.042",
        "1.000",
        "1.234",
        "0.0125",
    ]


def test_numeric_columns_are_validated() -> None:
    from exporters.core.errors import ParseError
    from exporters.haproxy.columns import numeric

    tails = ["a} ", "b} ", "c} ", "d} ", "e} "]
    assert numeric(tails, ["1", "", "-1", "NaN", "\u0661\u0662"]) == (
        ["a} ", "c} ", "d} ", "e} "],
        ["1", "-1", "NaN", "12"],
    )
    assert numeric(tails[:2], ["2.50", "7"]) == (tails[:2], ["2.5", "7"])
    assert numeric(tails[:2], ("3", "4")) == (tails[:2], ("3", "4"))
    with pytest.raises(ParseError):
        numeric(tails[:2], ["1", "1-2"])
