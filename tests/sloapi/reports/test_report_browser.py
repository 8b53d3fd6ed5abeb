"""The HTML report in headless Chromium: it renders, its images load, no console errors."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from report_history import Clock

from sloapi.reports.charts import render_charts
from sloapi.reports.html import data_uris, to_html
from sloapi.reports.month import Month

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# Appended to a copy of the page: records image loading and any script or console error.
PROBE = """
<script>
window.__errors = [];
window.addEventListener("error", e => window.__errors.push(String(e.message || e.type)), true);
const origError = console.error;
console.error = (...args) => { window.__errors.push(args.join(" ")); origError(...args); };
window.addEventListener("load", () => {
  const images = Array.from(document.images);
  const broken = images.filter(img => !(img.complete && img.naturalWidth > 0));
  const width = document.documentElement.scrollWidth;
  const marker = document.createElement("p");
  marker.id = "probe";
  marker.textContent = `PROBE images=${images.length} broken=${broken.length} `
    + `errors=${window.__errors.length} width=${width} viewport=${window.innerWidth}`;
  document.body.appendChild(marker);
});
</script>
"""


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / "chromium-profile"
    profile.mkdir(exist_ok=True)
    command = [
        CHROMIUM or "chromium", "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
        "--window-size=390,1600", *args,
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (apt-get install chromium)")
def test_html_report_renders_in_chromium(make_service, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    service = make_service(clock=Clock())
    report, _ = service.report(Month(2026, 8, "Europe/Paris"))
    html = to_html(report, data_uris(render_charts(report.slos)))
    page = tmp_path / "report.html"
    page.write_text(html, encoding="utf-8")
    probed = tmp_path / "probed.html"
    probed.write_text(html.replace("</body>", PROBE + "</body>"), encoding="utf-8")

    dom = chromium(tmp_path, "--virtual-time-budget=10000", "--dump-dom", probed.as_uri())
    match = re.search(r"PROBE images=(\d+) broken=(\d+) errors=(\d+) width=(\d+) viewport=(\d+)", dom.stdout)
    assert match, dom.stderr[-2000:]
    images, broken, errors, width, viewport = map(int, match.groups())
    assert images == len(report.slos) == 2
    assert broken == 0 and errors == 0
    assert width <= viewport <= 500  # a phone-sized window, nothing overflows it
    assert "Availability report August 2026" in dom.stdout
    console = [line for line in dom.stderr.splitlines() if "CONSOLE" in line]
    assert console == []

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report-august-2026-phone.png"
    shot.unlink(missing_ok=True)
    result = chromium(tmp_path, f"--screenshot={shot}", page.as_uri())
    assert shot.exists() and shot.stat().st_size > 10_000, result.stderr[-2000:]
    assert not [line for line in result.stderr.splitlines() if "CONSOLE" in line]
