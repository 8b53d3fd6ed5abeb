"""Flags, the config file and target checks of the keepalived exporter (no keepalived needed)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from exporters.core.cli import load_targets, make_parser
from exporters.core.errors import ConfigError
from exporters.core.metrics import sample_value
from exporters.keepalived.cli import DEFAULT_LISTEN, build, framework_argv, main, make_spec
from exporters.keepalived.config import load_targets as load_file
from exporters.keepalived.scrape import check_target, dump_folder


def targets(argv: list[str]):
    args, from_file = framework_argv(argv)
    spec = make_spec(from_file=from_file)
    return load_targets(spec, make_parser(spec).parse_args(args))


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "keepalived.yml"
    path.write_text(text)
    return str(path)


def test_one_target_from_flags_has_no_target_label() -> None:
    (t,), labelled = targets(["--keepalived.pid-file", "/run/keepalived.pid", "--keepalived.timeout", "2s"])
    assert not labelled
    assert (t.name, t.address, t.timeout, t.options) == ("keepalived", "/run/keepalived.pid", 2.0, {})
    assert dump_folder(t, 42) == Path("/proc/42/root/tmp")
    (t,), _ = targets(["--keepalived.pid-file=/run/k.pid", "--keepalived.dump-dir=/run/k/tmp"])
    assert t.options == {"dump_dir": "/run/k/tmp"}
    assert dump_folder(t, 42) == Path("/run/k/tmp")


def test_default_port_is_mehdys_9165_on_loopback() -> None:
    spec = make_spec()
    assert DEFAULT_LISTEN == "127.0.0.1:9165"
    assert make_parser(spec).parse_args([]).listen_address == DEFAULT_LISTEN


def test_config_file_targets(tmp_path: Path) -> None:
    config = write(
        tmp_path,
        "timeout: 2s\n"
        "targets:\n"
        "  - name: lb-a\n"
        "    pid_file: /run/lb-a/keepalived.pid\n"
        "    labels: {cluster: front}\n"
        "  - name: lb-b\n"
        "    pid_file: /run/lb-b/keepalived.pid\n"
        "    dump_dir: /run/lb-b/tmp\n"
        "    timeout: 500ms\n",
    )
    # flag targets are ignored with a config file, and even one file target is labelled
    (a, b), labelled = targets(["--config.file", config, "--keepalived.pid-file=/x.pid"])
    assert labelled
    assert (a.name, a.address, a.timeout, a.labels, a.options) == (
        "lb-a",
        "/run/lb-a/keepalived.pid",
        2.0,
        {"cluster": "front"},
        {},
    )
    assert (b.timeout, b.options, b.source) == (0.5, {"dump_dir": "/run/lb-b/tmp"}, f"{config}:6")
    one = write(tmp_path, "targets:\n  - {name: lb-a, pid_file: /run/a.pid}\n")
    (t,), _ = targets([f"--config.file={one}"])
    assert t.timeout == 5.0
    collector, server = build(["--config.file", one, "--web.listen-address", "127.0.0.1:0"])
    try:
        families = collector.collect()
    finally:
        server.server_close()
        collector.close()
    assert sample_value(families, "keepalived_up", {"target": "lb-a"}) == 0


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("", "empty config file"),
        ("targets: []\n", "'targets' must be a non-empty list"),
        ("targets:\n  - name: a\n", ":2: targets[0] has no 'pid_file'"),
        ("targets:\n  - pid_file: /a\n", ":2: targets[0] has no 'name'"),
        ("targets:\n  - {name: a, pid_file: /a, address: /b}\n", ":2: unknown key 'address'"),
        ("scrape: 1\ntargets:\n  - {name: a, pid_file: /a}\n", ":1: unknown key 'scrape'"),
        ("targets:\n  - {name: a, pid_file: /a}\n  - {name: a, pid_file: /b}\n", ":3: duplicate target name"),
        ("targets:\n  - {name: 'a b', pid_file: /a}\n", "invalid target name"),
        ("targets:\n  - {name: a, pid_file: /a, timeout: -1}\n", ":2: timeout"),
        ("targets:\n  - {name: a, pid_file: /a, labels: {target: x}}\n", "invalid label name 'target'"),
        ("targets:\n  - {name: a, pid_file: /a\n", "invalid YAML"),
    ],
)
def test_config_errors_name_file_and_line(tmp_path: Path, text: str, error: str) -> None:
    config = write(tmp_path, text)
    with pytest.raises(ConfigError, match=re.escape(error)) as info:
        load_file(config)
    assert str(info.value).startswith(config)


def test_relative_paths_are_refused_at_start(tmp_path: Path) -> None:
    config = write(tmp_path, "targets:\n  - {name: a, pid_file: run/a.pid}\n")
    with pytest.raises(ConfigError, match=r":2: target a: pid_file must be an absolute path"):
        targets(["--config.file", config])
    config = write(tmp_path, "targets:\n  - {name: a, pid_file: /a.pid, dump_dir: tmp}\n")
    with pytest.raises(ConfigError, match="dump_dir must be an absolute path"):
        targets(["--config.file", config])


def test_no_target_and_bad_config_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "no target" in capsys.readouterr().err
    assert main(["--config.file", str(tmp_path / "missing.yml")]) == 2
    assert "cannot read config file" in capsys.readouterr().err


def test_build_binds_and_serves_a_dead_target_as_down(tmp_path: Path) -> None:
    import threading
    import urllib.request

    collector, server = build(
        ["--keepalived.pid-file", str(tmp_path / "none.pid"), "--web.listen-address", "127.0.0.1:0"]
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
            text = r.read().decode()
        assert "\nkeepalived_up 0\n" in text
        assert 'keepalived_exporter_scrape_errors_total{kind="target"} 1\n' in text
        assert "keepalived_vrrp" not in text
    finally:
        server.shutdown()
        server.server_close()
        collector.close()


def test_check_target_refuses_unknown_options() -> None:
    from exporters.core.config import Target

    with pytest.raises(ConfigError, match="unknown option 'dumpdir'"):
        check_target(Target("a", "/a.pid", options={"dumpdir": "/x"}))
