"""Flags, target checks and secrets of the Patroni exporter (no server needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from exporters.core.cli import load_targets, make_parser
from exporters.core.config import Target
from exporters.core.errors import ConfigError
from exporters.core.metrics import sample_value
from exporters.patroni.cli import (
    build,
    check_target,
    main,
    make_spec,
    options_from_flags,
    targets_from_flags,
)
from exporters.patroni.client import check_url
from exporters.patroni.collector import PatroniCollector
from exporters.patroni.pgstat import monitoring_password
from exporters.patroni.scrape import PatroniScraper


def parse(argv: list[str]):
    scraper = PatroniScraper()
    try:
        return make_parser(make_spec(scraper)).parse_args(argv)
    finally:
        scraper.close()


def test_repeatable_url_flag_names_targets_by_host_port():
    args = parse(["--patroni.url", "http://127.0.0.1:8008", "--patroni.url", "https://db-2:8009/"])
    targets = targets_from_flags(args)
    assert [t.name for t in targets] == ["127.0.0.1:8008", "db-2:8009"]
    assert [t.address for t in targets] == ["http://127.0.0.1:8008", "https://db-2:8009/"]
    assert all(t.timeout == 5.0 for t in targets)


def test_default_listen_address_is_loopback_9547():
    args = parse([])
    assert args.listen_address == "127.0.0.1:9547"


def test_option_flags():
    args = parse(
        [
            "--patroni.monitoring-dsn=postgresql://mon@h/postgres",
            "--patroni.monitoring-password-env=MON_PW",
            "--patroni.basic-auth-user=nines",
            "--patroni.insecure-skip-verify",
        ]
    )
    assert options_from_flags(args) == {
        "monitoring_dsn": "postgresql://mon@h/postgres",
        "monitoring_password_env": "MON_PW",
        "basic_auth_user": "nines",
        "insecure_skip_verify": True,
    }


@pytest.mark.parametrize("url", ["ftp://h:1", "127.0.0.1:8008", "http://", "http://user:secret@h:8008"])
def test_bad_urls_are_refused(url: str):
    with pytest.raises(ConfigError) as e:
        check_url(url)
    assert "secret" not in str(e.value)


def test_missing_secrets_and_tls_files_are_refused(tmp_path: Path):
    url = "http://127.0.0.1:8008"
    with pytest.raises(ConfigError, match="basic_auth_password_file"):
        check_target(
            Target(
                "t", url, options={"basic_auth_user": "u", "basic_auth_password_file": str(tmp_path / "x")}
            )
        )
    with pytest.raises(ConfigError, match="ca_file"):
        check_target(Target("t", url, options={"ca_file": str(tmp_path / "ca.pem")}))
    with pytest.raises(ConfigError, match="monitoring_password_env"):
        check_target(
            Target(
                "t",
                url,
                options={
                    "monitoring_dsn": "dbname=postgres",
                    "monitoring_password_env": "PT_NOT_SET_ANYWHERE",
                },
            )
        )


def test_monitoring_password_sources(tmp_path: Path):
    f = tmp_path / "pw"
    f.write_text("s3cret\n")
    assert monitoring_password({"monitoring_password_file": str(f)}, {}) == "s3cret"
    assert monitoring_password({"password_file": str(f)}, {}) == "s3cret"
    assert monitoring_password({"monitoring_password_env": "PW"}, {"PW": "x"}) == "x"
    assert monitoring_password({}, {"PW": "x"}) is None


def test_main_refuses_to_start_without_target(capsys: pytest.CaptureFixture[str]):
    assert main(["--web.listen-address=127.0.0.1:0"]) == 2
    assert "no target" in capsys.readouterr().err


def test_main_masks_a_password_in_the_url(capsys: pytest.CaptureFixture[str]):
    assert main(["--patroni.url", "http://u:topsecret@127.0.0.1:1"]) == 2
    assert "topsecret" not in capsys.readouterr().err


@pytest.mark.parametrize(
    ("urls", "labelled"),
    [(["http://127.0.0.1:1"], False), (["http://127.0.0.1:1", "http://127.0.0.1:2"], True)],
)
def test_shared_build_uses_the_patroni_collector_and_labels_several_flag_targets(
    urls: list[str], labelled: bool
):
    argv = [f"--patroni.url={u}" for u in urls] + ["--web.listen-address=127.0.0.1:0", "--patroni.timeout=2s"]
    scraper = PatroniScraper()
    assert load_targets(make_spec(scraper), make_parser(make_spec(scraper)).parse_args(argv))[1] is labelled
    collector, server, same = build(argv, scraper)
    try:
        assert isinstance(collector, PatroniCollector) and same is scraper
        fams = collector.collect()  # nothing listens on ports 1 and 2: each target is down
        for u in urls:
            labels = {"target": u.removeprefix("http://")} if labelled else {}
            assert sample_value(fams, "patroni_up", labels) == 0
    finally:
        server.server_close()
        collector.close()
    with pytest.raises(RuntimeError):  # closing the collector closed the scraper's pool
        scraper.scrape(Target("t", urls[0], timeout=1))
