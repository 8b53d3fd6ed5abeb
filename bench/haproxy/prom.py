"""A real Prometheus scraping the three HAProxy exporters at the same interval, as users run it.

Prometheus negotiates compression itself (`Accept-Encoding: gzip`) and measures each scrape
from the request to the end of parsing and appending (`scrape_duration_seconds`); with
`--enable-feature=extra-scrape-metrics` it also records the uncompressed body size
(`scrape_body_size_bytes`). Every scraped sample is dropped by `metric_relabel_configs` so that
three targets of up to 580k series each do not fill a shared machine's memory: the durations
then cover HTTP, decompression, parsing and relabelling, not the TSDB writes.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from stack.throwaway import free_port, stop, wait_for

INTERVAL = 15  # seconds, for every job; the scrape timeout is the same


def config(targets: dict[str, str]) -> str:
    """prometheus.yml: one job per exporter (`name: host:port`), samples dropped after parsing."""
    jobs = "".join(
        f"  - job_name: {name}\n"
        f"    static_configs: [{{targets: ['{addr}']}}]\n"
        "    metric_relabel_configs: [{source_labels: [__name__], regex: '.+', action: drop}]\n"
        for name, addr in targets.items()
    )
    return f"global:\n  scrape_interval: {INTERVAL}s\n  scrape_timeout: {INTERVAL}s\nscrape_configs:\n{jobs}"


def _query(port: int, promql: str) -> dict[str, float]:
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    with urllib.request.urlopen(url, timeout=30) as resp:
        data = json.load(resp)["data"]["result"]
    return {r["metric"].get("job", ""): float(r["value"][1]) for r in data}


def measure(targets: dict[str, str], seconds: float, log: Path) -> dict[str, dict[str, float]]:
    """Run Prometheus for one interval plus `seconds` and return per job, over the last `seconds`:
    median and max scrape seconds, body bytes, samples, scrapes, failed scrapes and the scrape's
    offset in the interval."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="nines-bench-prom-") as tmp:
        cfg = Path(tmp) / "prometheus.yml"
        cfg.write_text(config(targets))
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                ["prometheus", f"--config.file={cfg}", f"--storage.tsdb.path={tmp}/data",
                 f"--web.listen-address=127.0.0.1:{port}", "--enable-feature=extra-scrape-metrics"],
                stdin=subprocess.DEVNULL, stdout=out, stderr=out,
            )  # fmt: skip
        try:
            wait_for(lambda: _query(port, "vector(1)") is not None, 60, "prometheus", ignore=(OSError,))
            time.sleep(INTERVAL + 2 + seconds)  # the first scrape of each job is not counted
            window = f"[{int(seconds)}s]"
            queries = {
                "median_s": f"quantile_over_time(0.5, scrape_duration_seconds{window})",
                "max_s": f"max_over_time(scrape_duration_seconds{window})",
                "bytes": f"max_over_time(scrape_body_size_bytes{window})",
                "samples": f"max_over_time(scrape_samples_scraped{window})",
                "scrapes": f"count_over_time(up{window})",
                "failed": f"count_over_time(up{window}) - sum_over_time(up{window})",
                "offset_s": f"timestamp(up) % {INTERVAL}",
            }
            got = {key: _query(port, q) for key, q in queries.items()}
        finally:
            stop(proc, 15)
    return {job: {key: got[key].get(job, 0.0) for key in queries} for job in targets}
