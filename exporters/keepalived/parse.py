"""Pure parsers of keepalived's dumps and of the kernel's address tables.

- `parse_json`: the JSON dump (signal RTMIN+2, `/tmp/keepalived.json`): one object per VRRP
  instance with `data` (state, priorities, VIPs, last transition) and `stats` (counters).
- `parse_scripts` / `parse_track_processes`: the data dump (SIGUSR1, `/tmp/keepalived.data`):
  the `VRRP Script = ...` blocks with their `Status` (GOOD/BAD) and `State` (idle/running/...),
  and the `VRRP Track process = ...` blocks with their quorum, which JSON lacks.
- `parse_fib_trie` / `parse_if_inet6`: the local IPv4 / IPv6 addresses of a network namespace,
  from the lines of `/proc/<pid>/net/fib_trie` and `/proc/<pid>/net/if_inet6`.

Every parser raises only `ParseError` on bad input.
"""

from __future__ import annotations

import ipaddress
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from exporters.core.errors import ParseError

# keepalived's own `stats` keys, in the order of its JSON dump
STATS_KEYS = (
    "advert_rcvd",
    "advert_sent",
    "become_master",
    "release_master",
    "packet_len_err",
    "advert_interval_err",
    "ip_ttl_err",
    "invalid_type_rcvd",
    "addr_list_err",
    "invalid_authtype",
    "authtype_mismatch",
    "auth_failure",
    "pri_zero_rcvd",
    "pri_zero_sent",
)
SCRIPT_STATUSES = {"BAD": 0, "GOOD": 1}
SCRIPT_STATES = {"idle": 0, "running": 1, "requested termination": 2, "forcing termination": 3}


@dataclass(frozen=True)
class Vip:
    """A virtual address of an instance: the address (without prefix) and its interface."""

    address: str
    intf: str


@dataclass(frozen=True)
class Instance:
    """One VRRP instance as the JSON dump shows it (never its authentication data)."""

    iname: str
    vrid: int
    intf: str
    state: int
    wantstate: int
    base_priority: int
    effective_priority: int
    last_transition: float
    garp_delay: float
    vips: tuple[Vip, ...] = ()
    evips: tuple[Vip, ...] = ()
    stats: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Script:
    """A `vrrp_script`: `status` 1 GOOD / 0 BAD, `state` 0 idle .. 3 forcing termination (or None)."""

    name: str
    status: int | None
    state: int | None


@dataclass(frozen=True)
class TrackProcess:
    """A `vrrp_track_process`: `quorum` 1 if enough processes run, else 0; `running` their number."""

    name: str
    quorum: int | None
    running: int | None


def parse_vip(text: str, default_intf: str) -> Vip | None:
    """`198.19.1.100/24 dev vrrp0 scope global set` -> Vip; None if the address is not an IP."""
    words = text.split()
    if not words:
        return None
    try:
        address = str(ipaddress.ip_interface(words[0]).ip)
    except ValueError:
        return None
    intf = default_intf
    if "dev" in words[1:-1]:
        intf = words[words.index("dev", 1) + 1]
    return Vip(address, intf)


def _number(data: dict[str, Any], key: str, where: str) -> float:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ParseError(f"{where}: {key} is not a number: {value!r}")
    return float(value)


def _text(data: dict[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise ParseError(f"{where}: {key} is not a string: {value!r}")
    return value


def _vips(data: dict[str, Any], key: str, intf: str, where: str) -> tuple[Vip, ...]:
    raw = data.get(key, [])
    if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
        raise ParseError(f"{where}: {key} is not a list of strings")
    return tuple(v for v in (parse_vip(s, intf) for s in raw) if v is not None)


def _instance(obj: Any, index: int) -> Instance:
    where = f"vrrp instance {index}"
    if not isinstance(obj, dict) or not isinstance(obj.get("data"), dict):
        raise ParseError(f"{where}: no 'data' object")
    data: dict[str, Any] = obj["data"]
    stats_raw = obj.get("stats", {})
    if not isinstance(stats_raw, dict):
        raise ParseError(f"{where}: 'stats' is not an object")
    iname = _text(data, "iname", where)
    intf = _text(data, "ifp_ifname", where)
    state = int(_number(data, "state", where))
    if not 0 <= state <= 3:
        raise ParseError(f"{where}: unknown state {state}")
    return Instance(
        iname=iname,
        vrid=int(_number(data, "vrid", where)),
        intf=intf,
        state=state,
        wantstate=int(_number(data, "wantstate", where)),
        base_priority=int(_number(data, "base_priority", where)),
        effective_priority=int(_number(data, "effective_priority", where)),
        last_transition=_number(data, "last_transition", where),
        garp_delay=_number(data, "garp_delay", where),
        vips=_vips(data, "vips", intf, where),
        evips=_vips(data, "evips", intf, where),
        stats={k: _number(stats_raw, k, where) for k in STATS_KEYS if k in stats_raw},
    )


def parse_json(text: str) -> list[Instance]:
    """Parse keepalived's JSON dump (a list of `{data, stats}` objects).

    Raises:
        ParseError: not JSON (e.g. a dump still being written), or not the expected shape.
    """
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as e:
        raise ParseError(f"keepalived.json is not valid JSON: {e}") from None
    if not isinstance(doc, list):
        raise ParseError("keepalived.json is not a list of VRRP instances")
    return [_instance(obj, i) for i, obj in enumerate(doc)]


def _blocks(text: str, opener: str) -> list[tuple[str, dict[str, str]]]:
    """The data dump's blocks that start with `opener` (e.g. `VRRP Script = `): (name, fields).

    A block ends at the next line indented by at most one space (the next block or a section
    header `------< ... >------`); its fields are its `Key = value` lines (the first of each key).
    """
    blocks: list[tuple[str, dict[str, str]]] = []
    fields: dict[str, str] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if len(raw) - len(raw.lstrip(" ")) <= 1:
            fields = None
            if line.startswith(opener) and line.removeprefix(opener).strip():
                fields = {}
                blocks.append((line.removeprefix(opener).strip(), fields))
        elif fields is not None:
            key, sep, value = line.partition(" = ")
            if sep:
                fields.setdefault(key, value.strip())
    return blocks


def parse_scripts(text: str) -> list[Script]:
    """The `VRRP Script = NAME` blocks of the data dump, with their status and state.

    In a truncated dump the last block may lack its status or state (then None).
    """
    return [
        Script(name, SCRIPT_STATUSES.get(f.get("Status", "")), SCRIPT_STATES.get(f.get("State", "")))
        for name, f in _blocks(text, "VRRP Script = ")
    ]


def parse_track_processes(text: str) -> list[TrackProcess]:
    """The `VRRP Track process = NAME` blocks of the data dump: quorum and running processes."""
    out = []
    for name, f in _blocks(text, "VRRP Track process = "):
        quorum = {"true": 1, "false": 0}.get(f.get("Have quorum", ""))
        running = f.get("Current processes", "")
        out.append(TrackProcess(name, quorum, int(running) if running.isdigit() else None))
    return out


def parse_fib_trie(lines: Iterable[str]) -> set[str]:
    """The IPv4 addresses local to a network namespace (`/32 host LOCAL` leaves of fib_trie)."""
    local: set[str] = set()
    last: str | None = None
    for line in lines:
        stripped = line.strip()
        if stripped.startswith(("|--", "+--")):
            last = stripped[3:].split()[0] if len(stripped) > 3 else None
        elif last and stripped.startswith("/32 host LOCAL"):
            try:
                local.add(str(ipaddress.IPv4Address(last)))
            except ValueError:
                continue
    return local


def parse_if_inet6(lines: Iterable[str]) -> set[tuple[str, str]]:
    """The IPv6 addresses of a network namespace as (address, interface) pairs."""
    out: set[tuple[str, str]] = set()
    for line in lines:
        words = line.split()
        if len(words) != 6 or len(words[0]) != 32:
            continue
        try:
            address = ipaddress.IPv6Address(int(words[0], 16))
        except ValueError:
            continue
        out.add((str(address), words[5]))
    return out
