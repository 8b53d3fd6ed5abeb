"""Compare our families with promex's: the families we cannot derive from the runtime API."""

from prometheus_client.parser import text_string_to_metric_families

# promex families that need data the stats socket does not give, or that we rename:
# - zlib memory: `show info` has ZlibMemUsage/MaxZlibMemUsage only in zlib builds (Debian's
#   haproxy 2.6 uses libslz); when the keys are present we export them.
# - failed_resolutions: promex 2.6 names a counter without `_total`; we add it (promtool).
NOT_DERIVED = {
    "haproxy_process_current_zlib_memory",
    "haproxy_process_max_zlib_memory",
}
RENAMED = {"haproxy_process_failed_resolutions": "haproxy_process_failed_resolutions_total"}


def families(text: str) -> dict[str, str]:
    """Family name -> type of an exposition text (counters keep their `_total`)."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            out[name] = kind
    return out


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """(name, sorted labels) -> value."""
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def missing_families(promex: str, ours: str) -> list[str]:
    """promex families (with their type) absent from ours, after the documented exceptions."""
    theirs, mine = families(promex), families(ours)
    missing = []
    for name, kind in theirs.items():
        if name in NOT_DERIVED:
            continue
        want = RENAMED.get(name, name)
        if mine.get(want) != kind:
            missing.append(f"{name} ({kind})")
    return missing
