"""One copy of the cluster-wide series when several members of a cluster are targets.

Cluster-scoped families are those labelled `scope` but not `name` (node families carry both).
They get the target's constant labels but no `target` label. For each cluster (its `scope` plus
the target's constant labels) the `patroni_cluster_*` series come from one target only -- the
first one, in configuration order, that served `/cluster` -- so a dashboard never mixes two
views of the DCS. Other cluster-scoped series (replication lag) keep the first sample of each
label set.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from exporters.core.metrics import Family, merge

VIEW_PREFIX = "patroni_cluster_"
VIEW_ANCHOR = "patroni_cluster_members"
OWN_PREFIX = "patroni_replication_"
Key = tuple[tuple[str, str], ...]


def is_cluster_scoped(fam: Family) -> bool:
    """True for families about a cluster rather than one node."""
    return "scope" in fam.labels and "name" not in fam.labels


def _key(const: Mapping[str, str], fam: Family, values: tuple[str, ...]) -> Key:
    return (*sorted(const.items()), ("scope", values[fam.labels.index("scope")]))


def node_name(families: Sequence[Family]) -> str | None:
    """The member name in a target's node families (their `name` label), if any."""
    for fam in families:
        if "name" in fam.labels and "scope" in fam.labels:
            for values, _ in fam.rows:
                return values[fam.labels.index("name")]
    return None


def shared_families(
    results: Sequence[tuple[Mapping[str, str], list[Family]]],
    owners: Sequence[str | None] | None = None,
) -> list[Family]:
    """Merge the cluster-scoped families of several targets, one copy per cluster.

    Args:
        results: per successful target, in configuration order: its constant labels and its
            cluster-scoped families.
        owners: per result, the member name of the target's node (None if unknown): its
            `patroni_replication_*` rows of that member win over other targets' rows.
    """
    chosen: dict[Key, int] = {}
    own: dict[tuple[str, tuple[str, ...]], int] = {}
    for i, (const, fams) in enumerate(results):
        owner = owners[i] if owners is not None else None
        for fam in fams:
            if fam.name == VIEW_ANCHOR:
                for values, _ in fam.rows:
                    chosen.setdefault(_key(const, fam, values), i)
            if owner is not None and fam.name.startswith(OWN_PREFIX) and "member" in fam.labels:
                at = fam.labels.index("member")
                for values, _ in fam.rows:
                    if values[at] == owner:
                        own.setdefault((fam.name, tuple(const.values()) + values), i)
    out: dict[tuple[str, tuple[str, ...]], Family] = {}
    seen: set[tuple[str, tuple[str, ...]]] = set()
    for i, (const, fams) in enumerate(results):
        names, prefix = tuple(const), tuple(const.values())
        for fam in fams:
            view = fam.name.startswith(VIEW_PREFIX)
            labels = names + fam.labels
            merged = out.get((fam.name, labels))
            if merged is None:
                merged = out[(fam.name, labels)] = Family(fam.name, fam.type, fam.help, labels)
            for values, value in fam.rows:
                if view and chosen.get(_key(const, fam, values), i) != i:
                    continue
                row = prefix + values
                if (fam.name, row) in seen or own.get((fam.name, row), i) != i:
                    continue
                seen.add((fam.name, row))
                merged.rows.append((row, value))
    return merge(f for f in out.values() if f.rows)
