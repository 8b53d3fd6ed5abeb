"""The text writer: escaping, merging across targets, and promtool's verdict."""

import shutil
import subprocess

import pytest
from hypothesis import given
from hypothesis import strategies as st

from exporters.core.logs import mask
from exporters.core.metrics import (
    Family,
    exposition_chunks,
    format_labels,
    merge,
    parse_label_text,
    render,
    sample_value,
)


def sample_families() -> list[Family]:
    up = Family("x_up", "gauge", "Up.")
    up.add((), 1)
    conn = Family("x_connections_total", "counter", "Connections.\nMore.", ("proxy", "server"))
    conn.add(("web", 'a"b\\c\nd'), 12)
    conn.add(("web", ""), 3.5)
    conn.text_rows.append((format_labels(("proxy", "server"), ("api", "s1")), "7"))
    conn.text_rows.append(("", 2.0))
    return [up, conn]


def test_render_exact_text() -> None:
    text = render(sample_families()).decode()
    assert text == (
        "# HELP x_up Up.\n# TYPE x_up gauge\nx_up 1\n"
        "# HELP x_connections_total Connections.\\nMore.\n# TYPE x_connections_total counter\n"
        'x_connections_total{proxy="web",server="a\\"b\\\\c\\nd"} 12\n'
        'x_connections_total{proxy="web"} 3.5\n'
        'x_connections_total{proxy="api",server="s1"} 7\n'
        "x_connections_total 2\n"
    )


def test_with_labels_and_merge_keep_one_family_per_name() -> None:
    a = [f.with_labels({"target": "a"}) for f in sample_families()]
    b = [f.with_labels({"target": "b", "cluster": "demo"}) for f in sample_families()]
    merged = merge(a + b)
    assert [f.name for f in merged] == ["x_up", "x_connections_total"]
    assert sample_value(merged, "x_up", {"target": "b", "cluster": "demo"}) == 1.0
    labels = {"target": "a", "proxy": "api", "server": "s1"}
    assert sample_value(merged, "x_connections_total", labels) == 7.0
    assert sample_value(merged, "x_connections_total", {"target": "b", "cluster": "demo"}) == 2.0
    assert render(merged).decode().count("# TYPE x_up gauge") == 1


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed")
def test_promtool_accepts_rendered_output() -> None:
    fams = merge([f.with_labels({"target": t}) for t in ("a", "b") for f in sample_families()])
    res = subprocess.run(
        ["promtool", "check", "metrics"],
        input=render(fams),
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert res.returncode == 0, res.stderr.decode() + res.stdout.decode()
    assert res.stdout.decode() + res.stderr.decode() == ""


@given(st.lists(st.text(), min_size=1, max_size=4))
def test_label_text_round_trips(values: list[str]) -> None:
    names = tuple(f"l{i}" for i in range(len(values)))
    text = format_labels(names, values)
    assert parse_label_text(text) == {n: v for n, v in zip(names, values, strict=True) if v}


@pytest.mark.parametrize(
    ("raw", "secret"),
    [
        ("postgresql://u:s3cret@h:5432/db", "s3cret"),
        ("host=h password=s3cret user=u", "s3cret"),
        ("password='s3 cret'", "s3 cret"),
        ("Authorization: Basic dXNlcjpzM2NyZXQ=", "dXNlcjpzM2NyZXQ="),
        ("http://admin:s3cret@10.0.0.1/stats;csv", "s3cret"),
    ],
)
def test_mask_hides_secrets(raw: str, secret: str) -> None:
    masked = mask(raw)
    assert secret not in masked
    assert "***" in masked


def column_family() -> Family:
    fam = Family("x_status", "gauge", "Status.", ("proxy", "state"))
    heads = ['proxy="a"', 'proxy="b\\\\c"', 'proxy="d\\"e"']
    fam.columns.append((heads, [',state="UP"} 1', ',state="UP"} 0', ',state="UP"} 0']))
    fam.columns.append(([h + "} " for h in heads], ["5", "NaN", "0.25"]))
    fam.columns.append(([], []))
    return fam


def test_columns_render_as_one_line_per_sample() -> None:
    fam = column_family()
    plain = render([fam]).decode().splitlines()[2:]
    assert plain == [
        'x_status{proxy="a",state="UP"} 1',
        'x_status{proxy="b\\\\c",state="UP"} 0',
        'x_status{proxy="d\\"e",state="UP"} 0',
        'x_status{proxy="a"} 5',
        'x_status{proxy="b\\\\c"} NaN',
        'x_status{proxy="d\\"e"} 0.25',
    ]
    labelled = render(merge([fam.with_labels({"target": "t"})])).decode().splitlines()[2]
    assert labelled == 'x_status{target="t",proxy="a",state="UP"} 1'
    assert sample_value([fam], "x_status", {"proxy": 'd"e', "state": "UP"}) == 0
    assert sample_value([fam], "x_status", {"proxy": "b\\c"}) != sample_value(
        [fam], "x_status", {"proxy": "a"}
    )


@pytest.mark.parametrize("gz", [False, True])
def test_exposition_chunks_hold_the_rendered_text(gz: bool) -> None:
    import gzip

    families = [*sample_families(), column_family()] * 300
    chunks = list(exposition_chunks(families, gz, size=4096))
    body = b"".join(chunks)
    assert (gzip.decompress(body) if gz else body) == render(families)
    assert len(chunks) > 1 or gz  # a compressor may hold repetitive text until the end
    assert all(len(c) >= 4096 for c in chunks[:-1])
