"""`mask` hides passwords in every form they reach a log: DSNs, key=value, JSON and Python dicts."""

from __future__ import annotations

import json
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exporters.core.logs import mask

# Secrets carry a marker no other generated part can hold, so "the secret is gone" is decidable.
MARK = "Zq"
secrets = st.text(
    alphabet=string.ascii_letters + string.digits + "@:/%!#$^&*()-_+=[]{}|;,.<>?~", min_size=4
).map(lambda s: MARK + s)
words = st.text(alphabet=string.ascii_lowercase + string.digits, min_size=1, max_size=12)
hosts = st.one_of(words, st.just("127.0.0.1"), st.just("db-1.example.org"))
ports = st.integers(min_value=1, max_value=65535)
FUZZ = settings(max_examples=300, deadline=None)


def _hidden(secret: str, text: str) -> None:
    masked = mask(text)
    assert MARK not in masked, (text, masked)
    assert "***" in masked


@FUZZ
@given(scheme=st.sampled_from(["postgresql", "postgres", "http", "https"]), user=words, pw=secrets,
       host=hosts, port=ports, prefix=st.sampled_from(["", "dsn ", "error=", "'", "address "]))  # fmt: skip
def test_url_passwords_even_with_raw_at(
    scheme: str, user: str, pw: str, host: str, port: int, prefix: str
) -> None:
    pw = pw.replace(" ", "")
    _hidden(pw, f"{prefix}{scheme}://{user}:{pw}@{host}:{port}/db failed")


@FUZZ
@given(user=words, pw=secrets.map(lambda s: s.replace(" ", "")), host=hosts, port=ports,
       prefix=st.sampled_from(["", "address ", "'", "url="]))  # fmt: skip
def test_schemeless_user_password_host_port(user: str, pw: str, host: str, port: int, prefix: str) -> None:
    _hidden(pw, f"{prefix}{user}:{pw}@{host}:{port}: use unix:/path")


@FUZZ
@given(key=st.sampled_from(["password", "sslpassword", "PGPASSWORD", "basic_auth_password", "secret"]),
       pw=secrets.filter(lambda s: not any(c in s for c in " ,;&'\"}")),
       sep=st.sampled_from(["=", " = ", ": ", ":"]))  # fmt: skip
def test_key_value_forms(key: str, pw: str, sep: str) -> None:
    _hidden(pw, f"host=127.0.0.1 {key}{sep}{pw} dbname=pgbouncer")


@FUZZ
@given(key=st.sampled_from(["password", "sslpassword", "monitoring_password", "token"]),
       pw=st.text(min_size=1).map(lambda s: MARK + s), other=words)  # fmt: skip
def test_json_and_python_dicts(key: str, pw: str, other: str) -> None:
    doc = {"user": other, key: pw, "host": other}
    _hidden(pw, json.dumps(doc))
    _hidden(pw, str(doc))
    _hidden(pw, f"config: {json.dumps(doc, ensure_ascii=False)}")


@pytest.mark.parametrize(
    "text",
    [
        "ts=2026-11-29T07:09:47.123Z level=info msg=listening",
        "address=127.0.0.1:9101 targets=a,b",
        "password_file: /etc/nines/pw",
        "http://127.0.0.1:8008/patroni",
        "GET /cluster: HTTP 503",
    ],
)
def test_text_without_secrets_is_unchanged(text: str) -> None:
    assert mask(text) == text
