"""Every alert's runbook link opens an existing section of the running sloapi's `/runbooks`.

Checked end to end on the stack: the rules Prometheus loaded, the generated SLO rules, the
Alertmanager template's link in a real alert mail, and the SLO page listing the firing alert.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path

import httpx
import pytest

from sloapi.commands.rules import rules_text
from sloapi.rules.runbooks import anchors, with_base
from stack.runbook_links import runbooks_url
from stack.sink import read_mail

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.stack


def page_anchors(url: str) -> set[str]:
    html = httpx.get(url, timeout=30).text
    return set(re.findall(r'\bid="([^"]+)"', html))


def test_every_loaded_alert_links_to_an_existing_runbook_section(stack) -> None:  # type: ignore[no-untyped-def]
    base = runbooks_url(stack.layout)
    ids = page_anchors(base)
    rules = httpx.get(f"http://{stack.addr('prometheus')}/api/v1/rules", timeout=30).json()["data"]["groups"]
    links = [
        rule["annotations"].get("runbook_url", "")
        for group in rules
        for rule in group["rules"]
        if rule["type"] == "alerting"
    ]
    assert len(links) >= 40
    for link in links:
        assert link.startswith(base + "#"), link
        assert link.split("#", 1)[1] in ids, link


def test_rules_files_and_generated_slo_rules_name_existing_sections(stack) -> None:  # type: ignore[no-untyped-def]
    base = runbooks_url(stack.layout)
    ids = page_anchors(base)
    texts = [p.read_text(encoding="utf-8") for p in sorted((REPO / "rules").glob("*.yml"))]
    generated = with_base(rules_text(REPO / "slos", 30), base)
    assert f"runbook_url: {base}#slo-budget-burn" in generated
    found = [a for text in [*texts, generated] for a in anchors(text)]
    assert len(found) >= 60
    assert sorted(set(found) - ids) == []


def _alert(now: datetime, ends: datetime) -> list[dict[str, object]]:
    return [
        {
            "labels": {
                "alertname": "NinesSiteProbe",
                "severity": "critical",
                "service": "site-probe",
                "sloth_id": "web-availability",
            },
            "annotations": {
                "summary": "probe of the SLO page",
                "runbook_url": "docs/runbooks.md#slo-budget-burn",
            },
            "startsAt": now.isoformat(),
            "endsAt": ends.isoformat(),
        }
    ]


def test_alert_mail_and_slo_page_link_the_runbook(stack) -> None:  # type: ignore[no-untyped-def]
    alertmanager = f"http://{stack.addr('alertmanager')}"
    now = datetime.now(UTC)
    started = time.time()
    httpx.post(f"{alertmanager}/api/v2/alerts", json=_alert(now, now + timedelta(minutes=10)), timeout=10)
    try:
        page = httpx.get(f"http://{stack.addr('sloapi')}/slos/web-availability", timeout=120).text
        assert "NinesSiteProbe" in page and "probe of the SLO page" in page
        mail = None
        deadline = time.monotonic() + 90
        while mail is None and time.monotonic() < deadline:
            folder = stack.path("sink", "mail")
            for item in read_mail(folder) if folder.exists() else []:
                if "NinesSiteProbe" in item.subject and item.path.stat().st_mtime >= started - 1:
                    mail = item
            time.sleep(1)
        assert mail is not None, "the probe alert's mail did not arrive"
        message = BytesParser(policy=policy.default).parsebytes(mail.path.read_bytes())
        html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
        link = re.search(r'<a href="([^"]+)"[^>]*>Runbook</a>', html)
        assert link is not None
        expected = runbooks_url(stack.layout) + "#slo-budget-burn"
        assert link.group(1) == expected
        assert "slo-budget-burn" in page_anchors(expected)
    finally:
        httpx.post(f"{alertmanager}/api/v2/alerts", json=_alert(now, datetime.now(UTC)), timeout=10)
