"""The exposition of the recorded answers stays byte for byte what it was.

The digests were taken from the parser and writer this flat, column-by-column one replaced
(each fixture version, with the cardinality options and with a constant label), plus one
deliberate change: servers without health checks export NaN check failures, up/down
transitions and downtime, as promex does. Any other change to the bytes (order, escaping,
number formatting) fails here before it reaches a dashboard.
"""

import hashlib
import re

import pytest
from haproxy_fixtures import VERSIONS, read

from exporters.core.metrics import Family, merge, render
from exporters.haproxy.families import Options, info_families, stat_families
from exporters.haproxy.parse import parse_info, parse_stat

OPTIONS = {
    "default": Options(),
    "no_maint": Options(no_maint=True),
    "proxies_only": Options(proxies_only=True),
    "filtered": Options(include=re.compile("app|web"), exclude=re.compile("web")),
}
DIGESTS = {
    "1.8-default-target": "1f02ef778983e7aa832d",
    "1.8-default": "aa258695dd681bb34283",
    "1.8-filtered-target": "6e83b3413d0c9416c9bf",
    "1.8-filtered": "d3adc24b32f96a13b0c0",
    "1.8-no_maint-target": "1b3b761bddd72396e567",
    "1.8-no_maint": "117e5317a5f64ba9c2ef",
    "1.8-proxies_only-target": "24351ea7cd46c1585b11",
    "1.8-proxies_only": "eedf076af67bc98b66b7",
    "2.0-default-target": "9a464a0a876253f11a01",
    "2.0-default": "3e1e0c5c8dde4c47e03f",
    "2.0-filtered-target": "23f29fa38c9e02f03ee9",
    "2.0-filtered": "08c14750a874fe9da09d",
    "2.0-no_maint-target": "b251f050dee258f4b279",
    "2.0-no_maint": "e1d587aa539ae99880b6",
    "2.0-proxies_only-target": "28f236b3a3d01739aa21",
    "2.0-proxies_only": "3b51fcb91b4aef658f40",
    "2.4-default-target": "7cbecaedf5dd1d0fcc61",
    "2.4-default": "e083289cf45df1d5565b",
    "2.4-filtered-target": "9fb84ebe76621a1f0863",
    "2.4-filtered": "b3bebdd6f8465185102a",
    "2.4-no_maint-target": "115a4f566b6e606afeef",
    "2.4-no_maint": "dd2b8b088678b58cf4b4",
    "2.4-proxies_only-target": "23a81da03f955a4c71a9",
    "2.4-proxies_only": "bfb543285ee0c5a5c18d",
    "2.6-default-target": "40ff154ab54e3949225d",
    "2.6-default": "ea1221bcdfdb890de5ce",
    "2.6-filtered-target": "a70e94bae8295937a3f5",
    "2.6-filtered": "3c17e0fdeade2d1e840a",
    "2.6-no_maint-target": "57151e4244ced0bf54a5",
    "2.6-no_maint": "7d825440443e96908627",
    "2.6-proxies_only-target": "f9197d491021e6f6e54b",
    "2.6-proxies_only": "cd0a788ed9fbac3df67e",
}


def families(version: str, opts: Options) -> list[Family]:
    fams = info_families(parse_info(read(version, "info.txt")))
    return fams + stat_families(parse_stat(read(version, "stat.csv").rstrip("\n")), opts)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("option", OPTIONS)
def test_bytes_are_unchanged(version: str, option: str) -> None:
    fams = families(version, OPTIONS[option])
    plain = render(fams)
    labelled = render(merge([f.with_labels({"target": 'a"b'}) for f in fams]))
    assert plain.count(b"\n") > 100
    assert hashlib.sha256(plain).hexdigest()[:20] == DIGESTS[f"{version}-{option}"]
    assert hashlib.sha256(labelled).hexdigest()[:20] == DIGESTS[f"{version}-{option}-target"]
