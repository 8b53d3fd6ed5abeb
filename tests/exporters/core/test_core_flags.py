"""Flags as exporter-toolkit's: an environment variable for each, `--version`, the PgBouncer aliases."""

from __future__ import annotations

import pytest

from exporters.core.cli import load_targets, make_parser
from exporters.core.envflags import env_names
from exporters.core.selfmetrics import version
from exporters.haproxy.cli import SPEC as HAPROXY
from exporters.patroni.cli import make_spec as patroni_spec
from exporters.pgbouncer.cli import make_spec as pgbouncer_spec

PGBOUNCER = pgbouncer_spec({})


@pytest.mark.parametrize(
    ("namespace", "flag", "names"),
    [
        ("haproxy", "--web.listen-address", ["HAPROXY_EXPORTER_WEB_LISTEN_ADDRESS"]),
        ("haproxy", "--haproxy.scrape-uri", ["HAPROXY_EXPORTER_SCRAPE_URI"]),
        ("pgbouncer", "--pgBouncer.connectionString", ["PGBOUNCER_EXPORTER_CONNECTION_STRING"]),
        ("pgbouncer", "--no-pgbouncer.clients", ["PGBOUNCER_EXPORTER_NO_CLIENTS"]),
        ("patroni", "--patroni.monitoring-dsn", ["PATRONI_EXPORTER_MONITORING_DSN"]),
    ],
)
def test_env_names(namespace: str, flag: str, names: list[str]) -> None:
    assert list(env_names(namespace, [flag])) == names


def test_every_flag_names_its_variable_in_help() -> None:
    for spec in (HAPROXY, PGBOUNCER, patroni_spec()):
        text = make_parser(spec, {}).format_help()
        prefix = f"{spec.namespace.upper()}_EXPORTER_"
        for flag in ("WEB_LISTEN_ADDRESS", "WEB_CONFIG_FILE", "WEB_MAX_REQUESTS", "LOG_LEVEL", "TIMEOUT"):
            assert f"env {prefix}{flag}" in " ".join(text.split()), (spec.namespace, flag)


def test_env_sets_defaults_and_the_command_line_wins() -> None:
    env = {"HAPROXY_EXPORTER_WEB_MAX_REQUESTS": "7", "HAPROXY_EXPORTER_LOG_LEVEL": "debug"}
    args = make_parser(HAPROXY, env).parse_args(["--log.level=warn"])
    assert args.max_requests == 7
    assert args.log_level == "warn"
    assert args.disable_exporter_metrics is False


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"HAPROXY_EXPORTER_WEB_MAX_REQUESTS": "many"},
            "environment variable HAPROXY_EXPORTER_WEB_MAX_REQUESTS",
        ),
        ({"HAPROXY_EXPORTER_LOG_LEVEL": "loud"}, "environment variable HAPROXY_EXPORTER_LOG_LEVEL"),
        ({"HAPROXY_EXPORTER_NO_MAINT": "perhaps"}, "HAPROXY_EXPORTER_NO_MAINT: expected true or false"),
        ({"HAPROXY_EXPORTER_TIMEOUT": "-1s"}, "environment variable HAPROXY_EXPORTER_TIMEOUT"),
    ],
)
def test_bad_env_value_exits_2_naming_the_variable(
    env: dict[str, str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        make_parser(HAPROXY, env)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        make_parser(HAPROXY, {}).parse_args(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.startswith(f"haproxy-exporter, version {version()} (python 3.")


DSN = "postgresql://stats@127.0.0.1:6432/pgbouncer"


@pytest.mark.parametrize(
    ("argv", "env"),
    [
        ([f"--pgBouncer.connectionString={DSN}"], {}),
        ([f"--pgbouncer.dsn={DSN}"], {}),
        ([], {"PGBOUNCER_EXPORTER_CONNECTION_STRING": DSN}),
        ([], {"PGBOUNCER_EXPORTER_DSN": DSN}),
    ],
)
def test_pgbouncer_connection_string_aliases(argv: list[str], env: dict[str, str]) -> None:
    args = make_parser(PGBOUNCER, env).parse_args(argv)
    targets, labelled = load_targets(PGBOUNCER, args)
    assert [(t.name, t.address) for t in targets] == [("pgbouncer", DSN)]
    assert labelled is False


def test_patroni_urls_from_a_comma_separated_variable() -> None:
    env = {"PATRONI_EXPORTER_URL": "http://127.0.0.1:8008,http://127.0.0.1:8009"}
    targets, labelled = load_targets(patroni_spec(), make_parser(patroni_spec(), env).parse_args([]))
    assert [t.name for t in targets] == ["127.0.0.1:8008", "127.0.0.1:8009"]
    assert labelled is True
