"""Several instant queries sent as one: each part's series tagged with a label naming the part
(`label_replace`), the parts joined with `or`.

The backend evaluates every part at the same time, and each part answers exactly the series
it answers alone (the tag keeps them apart, so `or` drops none): the figures are those of
one query per part, for one request.
"""

from __future__ import annotations

from collections.abc import Mapping

from sloapi.prometheus.decode import Sample

#: The label naming the part a series answers.
PART_LABEL = "sloapi_part"


def joined_query(parts: Mapping[str, str]) -> str:
    """The `parts` (`{name: query}`) as one query."""
    # each query on lines of its own: a `# comment` at its end stays a comment
    tagged = (f'label_replace(\n{q}\n, "{PART_LABEL}", "{name}", "", "")' for name, q in parts.items())
    return " or ".join(tagged)


def split_answer(samples: list[Sample]) -> dict[str, list[Sample]]:
    """The answer of a joined query by part (a part without series is absent)."""
    by_part: dict[str, list[Sample]] = {}
    for sample in samples:
        by_part.setdefault(sample.labels.get(PART_LABEL, ""), []).append(sample)
    return by_part
