"""The exposition of the recorded answers stays byte for byte what it was.

The digests were taken from the row-wise writer this column-wise one replaced (each fixture
version, with the cardinality options and with a constant label); any change to the bytes
(order, escaping, number formatting) fails here before it reaches a dashboard.
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
    "1.8-default-target": "70e2df95189f69cc34e4",
    "1.8-default": "ad9e34df297b6244ab14",
    "1.8-filtered-target": "55a015d73ca9ae1edf84",
    "1.8-filtered": "ca77dff6e87cdfdf0692",
    "1.8-no_maint-target": "7a87dad800d09fd1acae",
    "1.8-no_maint": "f23c97314fdfcdcad732",
    "1.8-proxies_only-target": "24351ea7cd46c1585b11",
    "1.8-proxies_only": "eedf076af67bc98b66b7",
    "2.0-default-target": "dc04006dc3191b94577c",
    "2.0-default": "e68d5c330d1689fb8a4d",
    "2.0-filtered-target": "9e516d957eca6b14fe94",
    "2.0-filtered": "8afb2afaa92de3f8fd8e",
    "2.0-no_maint-target": "612c81f3b7af1f66942d",
    "2.0-no_maint": "517656e1a08e7db30329",
    "2.0-proxies_only-target": "28f236b3a3d01739aa21",
    "2.0-proxies_only": "3b51fcb91b4aef658f40",
    "2.4-default-target": "1d9841f189c1391e97d9",
    "2.4-default": "61346c5aaa3ce3468827",
    "2.4-filtered-target": "6143320b38e0c249ea35",
    "2.4-filtered": "119ba8d762cc2543a5fa",
    "2.4-no_maint-target": "2c8d08cff66e2967192f",
    "2.4-no_maint": "405b3a5da3627170b944",
    "2.4-proxies_only-target": "23a81da03f955a4c71a9",
    "2.4-proxies_only": "bfb543285ee0c5a5c18d",
    "2.6-default-target": "ea9fa96e79ab29446a9f",
    "2.6-default": "4e487ede545bd20e15fa",
    "2.6-filtered-target": "665b556e43b8347f26f0",
    "2.6-filtered": "ef95951450e0e204450b",
    "2.6-no_maint-target": "c63596e186694106ba7a",
    "2.6-no_maint": "e94c360f48e37640e6fa",
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
