"""Parsers of `show info`, `show stat` and `show ssl cert` on recorded answers of 1.8 to 2.6."""

import pytest
from haproxy_fixtures import VERSIONS, read

from exporters.core.errors import ParseError
from exporters.haproxy import states
from exporters.haproxy.parse import (
    BACKEND,
    FRONTEND,
    LISTENER,
    SERVER,
    parse_cert,
    parse_cert_date,
    parse_cert_list,
    parse_info,
    parse_stat,
    split_answers,
)


@pytest.mark.parametrize("version", VERSIONS)
def test_stat_by_header_name(version: str) -> None:
    table = parse_stat(read(version, "stat.csv").rstrip("\n"))
    col = table.index()
    rows = {(r[col["pxname"]], r[col["svname"]]): r for r in table.rows}
    assert len(rows) == 14
    a1 = rows[("app", "a1")]
    assert (a1[col["type"]], a1[col["status"]], a1[col["weight"]]) == (SERVER, "UP", "100")
    assert rows[("app", "a3")][col["check_status"]] == "L4CON"
    assert rows[("app", "a4")][col["status"]] == "DRAIN"
    assert rows[("app", "a5")][col["status"]] == "MAINT"
    assert rows[("app", "a6")][col["status"]] == "no check"
    assert rows[("app", "b1")][col["bck"]] == "1"
    assert rows[("web", "FRONTEND")][col["type"]] == FRONTEND
    assert rows[("web", "plain")][col["type"]] == LISTENER
    assert rows[("app", "BACKEND")][col["type"]] == BACKEND
    assert ("eint" in col) is (version != "1.8")
    assert ("uweight" in col) is (version in ("2.4", "2.6"))


def test_stat_without_type_column_derives_it() -> None:
    table = parse_stat("# pxname,svname,scur\nweb,FRONTEND,1\napp,s1,2\napp,BACKEND,3")
    types = [r[table.index()["type"]] for r in table.rows]
    assert types == [FRONTEND, SERVER, BACKEND]


def test_stat_quoted_field_with_comma() -> None:
    table = parse_stat('# pxname,svname,check_desc,\napp,s1,"bad, very bad",', keep=None)
    assert table.rows[0][2] == "bad, very bad"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "pxname,svname\nx,y",
        "# pxname,scur\nx,1",
        "# pxname,svname,scur,\napp,s1,1,\napp,s2",
    ],
)
def test_stat_rejects_garbage(text: str) -> None:
    with pytest.raises(ParseError):
        parse_stat(text)


@pytest.mark.parametrize("version", VERSIONS)
def test_info_by_key(version: str) -> None:
    info = parse_info(read(version, "info.txt"))
    assert info["Name"] == "HAProxy"
    assert info["Nbthread"] == "2"
    assert ("Memmax_bytes" in info) is (version == "2.6")
    assert info["Version"].startswith(version) or version == "2.6"


def test_info_rejects_garbage() -> None:
    with pytest.raises(ParseError):
        parse_info("Unknown command: 'show infoo'")
    with pytest.raises(ParseError):
        parse_info("Foo: 1\nBar: 2\n")


def test_split_answers_detects_truncation() -> None:
    assert split_answers("a: 1\n\n# pxname\n\n", 2) == ["a: 1\n", "# pxname\n"]
    assert split_answers("a: 1\n\n\n", 2) == ["a: 1\n", ""]  # an empty answer
    with pytest.raises(ParseError, match="truncated"):
        split_answers("a: 1\n\n# pxname,svname\nweb,FRON", 2)
    with pytest.raises(ParseError, match="truncated"):
        split_answers("a: 1\n\n# pxname\n\n", 3)
    with pytest.raises(ParseError, match="got more"):
        split_answers("a: 1\n\n# pxname\n\n", 1)


def test_certificates() -> None:
    files = parse_cert_list(read("2.6", "ssl_cert_list.txt"))
    assert files == ["/etc/haproxy/certs/site.pem"]
    assert parse_cert_list("# filename\n*/new.pem\n/old.pem\n") == ["/old.pem"]
    cert = parse_cert(read("2.6", "ssl_cert.txt"))
    assert cert.file == "/etc/haproxy/certs/site.pem"
    assert cert.subject == "/CN=web.example.test"
    assert cert.not_after > 1.7e9
    assert parse_cert_date("Dec 25 23:34:24 2026 GMT") == 1798241664.0
    assert parse_cert_date("Jan  5 00:00:00 2027 GMT") == 1799107200.0
    with pytest.raises(ParseError):
        parse_cert("Filename: x\nnotAfter: soon\n")


@pytest.mark.parametrize(
    ("text", "state"),
    [
        ("UP", "UP"),
        ("UP 1/3", "UP"),
        ("DOWN", "DOWN"),
        ("DOWN 1/2", "DOWN"),
        ("NOLB", "NOLB"),
        ("NOLB 1/2", "NOLB"),
        ("MAINT", "MAINT"),
        ("MAINT (via app/a1)", "MAINT"),
        ("MAINT (resolution)", "MAINT"),
        ("DRAIN", "DRAIN"),
        ("DRAIN (agent)", "DRAIN"),
        ("no check", "UP"),
        ("garbage", ""),
    ],
)
def test_server_state(text: str, state: str) -> None:
    assert states.server_state(text) == state


def test_check_state() -> None:
    assert states.check_state("* L7OK") == "L7OK"
    assert states.check_state("L4CON") == "L4CON"
    assert states.check_state("INI") == ""
    assert states.check_state("") == ""


def test_stat_blocks_and_kept_columns() -> None:
    # more rows than one split block, and a quoted comma forcing the row-by-row path
    header = "# pxname,svname,scur,addr,status,type,"
    rows = [f"be{i // 25},s{i % 25},{i},10.0.0.{i % 250}:80,UP,2," for i in range(2600)]
    table = parse_stat("\n".join([header, *rows]) + "\n")
    assert table.columns == ("pxname", "svname", "scur", "status", "type")  # addr is not read
    assert len(table) == 2600
    assert table.column("scur") == [str(i) for i in range(2600)]
    assert table.rows[2599] == ["be103", "s24", "2599", "UP", "2"]
    every = parse_stat("\n".join([header, *rows]), keep=None)
    assert every.column("addr")[7] == "10.0.0.7:80"
    quoted = parse_stat("\n".join([header, *rows, 'x,y,1,"a,b",UP,2,']), keep=None)
    assert quoted.rows[-1] == ["x", "y", "1", "a,b", "UP", "2", ""]
    assert quoted.rows[:-1] == every.rows
