"""Config file loading: targets, options, durations and errors that name file and line."""

from pathlib import Path

import pytest

from exporters.core.config import load_config, parse_duration
from exporters.core.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "exporter.yml"
    path.write_text(text)
    return path


def test_loads_targets_with_defaults_labels_and_options(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
targets:
  - name: a
    address: unix:/run/a.sock
    timeout: 500ms
    labels: {cluster: demo}
    password_file: /secret
  - name: b
    address: tcp:127.0.0.1:9999
exclude_proxies: "^stats$"
""",
    )
    cfg = load_config(path, defaults={"no_maint": False, "exclude_proxies": None})
    a, b = cfg.targets
    assert (a.name, a.address, a.timeout, a.labels) == (
        "a",
        "unix:/run/a.sock",
        0.5,
        {"cluster": "demo"},
    )
    assert a.options == {
        "no_maint": False,
        "exclude_proxies": "^stats$",
        "password_file": "/secret",
    }
    assert a.source == f"{path}:2"
    assert (b.timeout, b.labels, b.options["exclude_proxies"]) == (5.0, {}, "^stats$")
    assert cfg.options == {"exclude_proxies": "^stats$"}


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("targets:\n  - name: a\n    address: x\n    timeout: soon\n", 4, "timeout"),
        ("targets:\n  - name: a\n", 2, "no 'address'"),
        ("targets:\n  - name: a\n    address: x\n  - name: a\n    address: y\n", 4, "duplicate"),
        ("targets:\n  - name: a\n    address: x\n    labels: {__x: y}\n", 4, "label name"),
        ("targets: [\n", 2, "invalid YAML"),
        ("targets: []\n", 1, "non-empty list"),
    ],
)
def test_errors_name_file_and_line(tmp_path: Path, text: str, line: int, fragment: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert f"{path}:{line}" in str(err.value)
    assert fragment in str(err.value)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "nope.yml")


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [(5, 5.0), (0.25, 0.25), ("500ms", 0.5), ("5s", 5.0), ("1m", 60.0), ("2", 2.0)],
)
def test_parse_duration(raw: object, seconds: float) -> None:
    assert parse_duration(raw) == seconds


@pytest.mark.parametrize("raw", ["0s", "-1", "5 days", True, ""])
def test_parse_duration_rejects(raw: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(raw)
