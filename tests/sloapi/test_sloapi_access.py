"""Settings of the query API: headers, credentials from files (never logged), CA file, range limit."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from sloapi.config import Settings
from sloapi.errors import QueryError
from sloapi.prometheus.access import Access, make_session, mask_http_url
from sloapi.prometheus.chunks import chunk_bounds, points_per_chunk


def test_credentials_come_from_files_and_are_not_described(tmp_path: Path) -> None:
    password, token = tmp_path / "password", tmp_path / "token"
    password.write_text("pa55word\n", encoding="utf-8")
    token.write_text("t0ken\n", encoding="utf-8")
    basic = Settings(
        prometheus_basic_auth_user="sloapi",
        prometheus_basic_auth_password_file=password,
        prometheus_headers={"X-Scope-OrgID": "tenant-1"},
    ).prometheus_access()
    assert basic.basic_auth == ("sloapi", "pa55word")
    assert basic.describe() == "headers X-Scope-OrgID; basic auth as sloapi"
    bearer = Settings(prometheus_bearer_token_file=token, prometheus_ca_file=password).prometheus_access()
    session = make_session("https://mimir.example:8080/prometheus", bearer)
    assert session.headers["Authorization"] == "Bearer t0ken"
    assert session.verify == str(password)
    assert "t0ken" not in bearer.describe()
    assert "pa55word" not in basic.describe()


def test_bad_credentials_settings_are_named(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="not both"):
        Settings(prometheus_bearer_token_file=tmp_path / "t", prometheus_basic_auth_user="u")
    with pytest.raises(ValueError, match="SLOAPI_PROMETHEUS_BEARER_TOKEN_FILE: cannot read"):
        Settings(prometheus_bearer_token_file=tmp_path / "absent").prometheus_access()
    with pytest.raises(ValueError, match="needs SLOAPI_PROMETHEUS_BASIC_AUTH_USER"):
        Settings(prometheus_basic_auth_password_file=tmp_path / "p").prometheus_access()
    with pytest.raises(ValueError, match="SLOAPI_PROMETHEUS_CA_FILE"):
        Settings(prometheus_ca_file=tmp_path / "absent.pem").prometheus_access()
    with pytest.raises(ValidationError, match="invalid duration"):
        Settings(prometheus_max_query_range="a while")


def test_urls_are_masked_for_logs() -> None:
    assert mask_http_url("https://user:secret@mimir:8080/prometheus") == "https://***@mimir:8080/prometheus"
    assert mask_http_url("http://127.0.0.1:9090") == "http://127.0.0.1:9090"
    assert Access().describe() == "no credentials"


def test_the_maximum_range_bounds_each_chunk() -> None:
    assert points_per_chunk(60, 11_000, None) == 11_000
    assert points_per_chunk(60, 11_000, 86_400) == 1440  # 1440 points read 1440 one-minute steps
    assert points_per_chunk(3600, 11_000, 768 * 3600) == 768
    with pytest.raises(QueryError, match="SLOAPI_PROMETHEUS_MAX_QUERY_RANGE"):
        points_per_chunk(7200, 11_000, 3600)
    chunks = chunk_bounds(0, 30 * 86_400, 60, points_per_chunk(60, 11_000, 86_400))
    assert all(hi - lo + 60 <= 86_400 for lo, hi in chunks)
    assert len(chunks) == 31
