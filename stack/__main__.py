"""`python -m stack up | down | status | mail | urls | traffic` — the local HA stack on 127.0.0.1."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from stack import traffic as stack_traffic
from stack.components.victoria import TSDB_CHOICES, TsdbChoiceError, choose_tsdb
from stack.layout import default_layout
from stack.runner import Stack, StackError
from stack.sink import read_mail


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    parser = argparse.ArgumentParser(prog="python -m stack", description=__doc__)
    parser.add_argument("--dir", help="state directory (default .stack/, or NINES_STACK_DIR)")
    parser.add_argument("--port-offset", type=int, help="added to every port (or NINES_PORT_OFFSET)")
    sub = parser.add_subparsers(dest="cmd", required=True)
    up = sub.add_parser("up", help="start every component and wait until it is ready")
    up.add_argument(
        "--etcd-members",
        type=int,
        choices=(1, 3),
        help="3 for the demo (default), 1 for tests; fixed once the stack exists",
    )
    up.add_argument("--no-services", action="store_true", help="without our exporters and SLO service")
    up.add_argument(
        "--tsdb",
        choices=TSDB_CHOICES,
        help="prometheus (default) or victoriametrics (or NINES_TSDB); remembered by the state dir",
    )
    up.add_argument(
        "--sloapi-instances",
        type=int,
        choices=(1, 2),
        help="1 (default, embedded SQLite) or 2 (on the HA PostgreSQL); remembered by the state dir",
    )
    down = sub.add_parser("down", help="stop everything `up` started")
    down.add_argument("--purge", action="store_true", help="also delete the state directory")
    sub.add_parser("status", help="one line per component: up/down, pid, address")
    sub.add_parser("urls", help="the URLs to open")
    mail = sub.add_parser("mail", help="list the messages the SMTP sink received")
    mail.add_argument("--json", action="store_true")
    mail.add_argument("--show", type=int, metavar="N", help="print message N in full")
    drill = sub.add_parser("drill", help="run a failover drill against the running stack")
    drill.add_argument("scenario", nargs="?", help="scenario name (omit to list them)")
    drill.add_argument(
        "--settle",
        type=float,
        default=120.0,
        help="seconds to keep load and watch after the repair (default 120)",
    )
    traffic = sub.add_parser("traffic", help="start or change the demo's synthetic client")
    traffic.add_argument("--rate", type=float, help="requests per second (0 pauses; default 2)")
    traffic.add_argument("--error-ratio", type=float, help="share of requests answered 500 (default 0.0005)")
    traffic.add_argument("--stop", action="store_true", help="stop the client")
    args = parser.parse_args(argv)

    recorded = _recorded(args)
    if args.cmd == "up":
        _check_recorded(recorded, args)
        members = args.etcd_members or recorded.get("etcd_members", 3)
        services = not args.no_services
        instances = args.sloapi_instances or recorded.get("sloapi_instances", 1)
    else:
        members = recorded.get("etcd_members", 3)
        services = recorded.get("services", True)
        instances = recorded.get("sloapi_instances", 1)
    layout = default_layout(args.dir, args.port_offset, members)
    layout.sloapi_instances = instances
    try:
        layout.tsdb = choose_tsdb(layout, recorded.get("tsdb"), getattr(args, "tsdb", None), args.cmd == "up")
    except TsdbChoiceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    stack = Stack(layout, with_services=services)
    try:
        if args.cmd == "up":
            choices = {"etcd_members": members, "services": services, "tsdb": layout.tsdb}
            _record(layout.root, {**choices, "sloapi_instances": instances})
            print(
                f"starting the nines stack in {layout.root} (etcd members: {members}, "
                f"tsdb: {layout.tsdb}, sloapi instances: {instances})",
                flush=True,
            )
            stack.up(progress=lambda s: print(s, flush=True))
            print("\nstack is up:")
            print("\n".join(stack.urls()))
            print("\nnext: `make status`, `.venv/bin/python -m stack mail`, `make down`")
        elif args.cmd == "traffic":
            return stack_traffic.command(layout, args.rate, args.error_ratio, args.stop)
        elif args.cmd == "down":
            stack_traffic.stop_client(layout)
            stack.down()
            if args.purge:
                stack.purge()
        elif args.cmd == "status":
            rows = stack.status()
            print("\n".join(r.line() for r in rows))
            return 0 if all(r.up for r in rows) else 3
        elif args.cmd == "urls":
            print("\n".join(stack.urls()))
        elif args.cmd == "mail":
            return _mail(layout.path("sink", "mail"), args)
        elif args.cmd == "drill":
            return _drill(stack, args)
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _recorded(args: argparse.Namespace) -> dict[str, Any]:
    """What the last `up` of this state directory chose (etcd members, services)."""
    try:
        data: dict[str, Any] = json.loads(
            default_layout(args.dir, args.port_offset).path("stack.json").read_text()
        )
        return data
    except (OSError, ValueError):
        return {}


def _check_recorded(recorded: dict[str, Any], args: argparse.Namespace) -> None:
    was = recorded.get("etcd_members")
    if was and args.etcd_members and args.etcd_members != was:
        raise SystemExit(
            f"error: this stack was created with {was} etcd member(s); "
            "run `python -m stack down --purge` to start over with another count"
        )


def _record(root: Path, choices: dict[str, Any]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "stack.json").write_text(json.dumps(choices) + "\n")


def _drill(stack: Stack, args: argparse.Namespace) -> int:
    from stack.drills.run import DrillError, run_drill
    from stack.drills.scenarios import SCENARIOS

    if not args.scenario:
        for sc in SCENARIOS.values():
            print(f"{sc.name:<22} {sc.description}{'  (quick)' if sc.quick else ''}")
        return 0
    try:
        report = run_drill(stack, args.scenario, settle=args.settle, progress=lambda m: print(m, flush=True))
    except DrillError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(report.summary())
    print(f"report: {stack.layout.path('drills')}/")
    return 0 if report.ok else 4


def _mail(folder: Path, args: argparse.Namespace) -> int:
    mails = read_mail(folder)
    if args.show:
        if not 1 <= args.show <= len(mails):
            print(f"no message {args.show}; there are {len(mails)}", file=sys.stderr)
            return 2
        print(mails[args.show - 1].path.read_text(errors="replace"))
        return 0
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "n": i + 1,
                        "date": str(m.message.get("Date", "")),
                        "to": m.recipients,
                        "subject": m.subject,
                    }
                    for i, m in enumerate(mails)
                ],
                indent=2,
            )
        )
        return 0
    if not mails:
        print("no mail received yet")
    for i, m in enumerate(mails, 1):
        print(f"{i:>4}  {m.message.get('Date', ''):<32} {', '.join(m.recipients):<30} {m.subject}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
