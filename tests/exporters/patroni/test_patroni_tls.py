"""TLS options against a real Patroni whose REST API requires HTTPS and a client certificate."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from patroni_cluster import PatroniCluster

from exporters.core.config import Target
from exporters.core.errors import TargetError
from exporters.core.metrics import Family, sample_value
from exporters.patroni.scrape import PatroniScraper

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tls_node() -> Iterator[PatroniCluster]:
    """One etcd and one Patroni node with `restapi.certfile` and `verify_client: required`."""
    c = PatroniCluster.create(size=1, tls=True)
    try:
        c.start(timeout=180)
        yield c
    finally:
        c.stop()


def scrape(url: str, **options: object) -> list[Family]:
    scraper = PatroniScraper()
    try:
        return scraper.scrape(Target("tls", url, timeout=10, options=dict(options)))
    finally:
        scraper.close()


def test_ca_and_client_certificate(tls_node: PatroniCluster):
    t = tls_node.tls
    assert t is not None
    url = tls_node.members[0].url
    assert url.startswith("https://")
    fams = scrape(url, ca_file=str(t.ca), cert_file=str(t.client_cert), key_file=str(t.client_key))
    lab = {"scope": "nines", "name": "pg-1"}
    assert sample_value(fams, "patroni_primary", lab) == 1
    assert sample_value(fams, "patroni_cluster_members", {"scope": "nines"}) == 1
    # insecure_skip_verify still presents the client certificate
    fams = scrape(url, insecure_skip_verify=True, cert_file=str(t.client_cert), key_file=str(t.client_key))
    assert sample_value(fams, "patroni_primary", lab) == 1


def test_unknown_ca_is_refused(tls_node: PatroniCluster):
    t = tls_node.tls
    assert t is not None
    with pytest.raises(TargetError, match=r"CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
        scrape(tls_node.members[0].url, cert_file=str(t.client_cert), key_file=str(t.client_key))


def test_missing_client_certificate_is_refused(tls_node: PatroniCluster):
    t = tls_node.tls
    assert t is not None
    with pytest.raises((TargetError, TimeoutError)):
        scrape(tls_node.members[0].url, ca_file=str(t.ca))
