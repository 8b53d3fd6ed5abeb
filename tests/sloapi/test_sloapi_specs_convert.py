"""`sloapi convert`: every accepted spec to Sloth and back, to Pyrra and OpenSLO where expressible."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sloapi.cli import main
from sloapi.errors import InvalidSpecsError
from sloapi.specs import SLOSpec, load_dir, read_text
from sloapi.specs.convert import convert

SPECS = Path(__file__).resolve().parent / "specs"
REPO = Path(__file__).resolve().parents[2]


def comparable(spec: SLOSpec) -> tuple[object, ...]:
    """What must survive a conversion: id, objective, window, labels and the SLI's values."""
    return (spec.id, spec.objective, spec.window, spec.labels, spec.description, spec.queries("5m"))


def reload(text: str) -> list[SLOSpec]:
    specs, errors = read_text(text, "converted")
    assert errors == []
    return specs


@pytest.mark.parametrize("folder", [SPECS / "mixed", REPO / "slos"])
@pytest.mark.parametrize("to", ["sloth", "sloth-k8s"])
def test_everything_converts_to_sloth_unchanged(folder: Path, to: str) -> None:
    specs = load_dir(folder)
    again = reload(convert(specs, to))
    assert sorted(map(comparable, again), key=str) == sorted(map(comparable, specs), key=str)
    originals = {s.id: s for s in specs}
    for spec in again:
        assert spec.alerting == originals[spec.id].alerting
        assert spec.recipients == originals[spec.id].recipients


def test_sloth_output_is_plain_prometheus_v1() -> None:
    docs = list(yaml.safe_load_all(convert(load_dir(SPECS / "mixed"), "sloth")))
    assert {d["version"] for d in docs} == {"prometheus/v1"}
    edge = next(d for d in docs if d["service"] == "edge")
    latency = next(s for s in edge["slos"] if s["name"] == "gateway-latency")
    assert latency["objective"] == 99
    assert latency["window"] == "14d"
    assert latency["sli"]["events"]["total_query"] == "sum(rate(gateway_duration_seconds_count[{{.window}}]))"


def test_pyrra_round_trip_and_what_pyrra_cannot_hold() -> None:
    pyrra = [s for s in load_dir(SPECS / "mixed") if s.source.endswith("pyrra.yaml")]
    again = reload(convert(pyrra, "pyrra"))
    assert sorted(map(comparable, again), key=str) == sorted(map(comparable, pyrra), key=str)
    with pytest.raises(InvalidSpecsError) as info:
        convert(load_dir(SPECS / "mixed"), "pyrra")
    reasons = {e.slo: e.reason.removeprefix("cannot be expressed in Pyrra: ") for e in info.value.errors}
    assert reasons == {
        "checkout-queue-freshness": "a raw error ratio is only expressible as a bool_gauge",
        "ledger-writes-0": "a good/total SLI is only expressible as latency (a bucket with le)",
        "media-uploads": "calendar window month@Europe/Berlin (Pyrra windows are rolling)",
    }


def test_openslo_v1_round_trip_of_event_slis() -> None:
    events = [s for s in load_dir(SPECS / "mixed") if "ratio" not in s.queries("5m")]
    again = reload(convert(events, "openslo"))
    assert sorted(map(comparable, again), key=str) == sorted(map(comparable, events), key=str)


def test_convert_cli_exits_2_naming_what_cannot_be_expressed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["convert", str(SPECS / "mixed" / "sloth-k8s.yaml"), "--to", "openslo"]) == 2
    err = capsys.readouterr().err
    assert "SLO checkout-queue-freshness: cannot be expressed in OpenSLO v1: a raw error-ratio SLI" in err
    out = tmp_path / "pyrra.yml"
    assert main(["convert", str(SPECS / "mixed" / "pyrra.yaml"), "--to", "sloth", "--out", str(out)]) == 0
    assert [s.id for s in load_dir(tmp_path)] == [
        "edge-gateway-errors", "edge-gateway-latency", "edge-gateway-latency-native", "edge-replica-ready",
        "default-probe-success",
    ]  # fmt: skip
