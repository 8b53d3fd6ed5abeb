"""`python -m stack up | down | status | mail | urls` — the local HA stack on 127.0.0.1."""

from __future__ import annotations

import argparse
import json
import sys

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
    down = sub.add_parser("down", help="stop everything `up` started")
    down.add_argument("--purge", action="store_true", help="also delete the state directory")
    sub.add_parser("status", help="one line per component: up/down, pid, address")
    sub.add_parser("urls", help="the URLs to open")
    mail = sub.add_parser("mail", help="list the messages the SMTP sink received")
    mail.add_argument("--json", action="store_true")
    mail.add_argument("--show", type=int, metavar="N", help="print message N in full")
    args = parser.parse_args(argv)

    members = getattr(args, "etcd_members", None) or _recorded_members(args)
    layout = default_layout(args.dir, args.port_offset, members)
    stack = Stack(layout, with_services=not getattr(args, "no_services", False))
    try:
        if args.cmd == "up":
            _check_members(layout.root, members)
            print(f"starting the nines stack in {layout.root} (etcd members: {members})", flush=True)
            stack.up(progress=lambda s: print(s, flush=True))
            print("\nstack is up:")
            print("\n".join(stack.urls()))
            print("\nnext: `python -m stack status`, `python -m stack mail`, `make down`")
        elif args.cmd == "down":
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
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _recorded_members(args: argparse.Namespace) -> int:
    layout = default_layout(args.dir, args.port_offset)
    try:
        return int(layout.path("etcd-members").read_text())
    except (OSError, ValueError):
        return 3


def _check_members(root: object, members: int) -> None:
    from pathlib import Path

    marker = Path(str(root)) / "etcd-members"
    if marker.exists() and int(marker.read_text()) != members:
        raise StackError(
            f"this stack was created with {marker.read_text().strip()} etcd member(s); "
            "run `python -m stack down --purge` to start over with another count"
        )
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(str(members))


def _mail(folder: object, args: argparse.Namespace) -> int:
    from pathlib import Path

    mails = read_mail(Path(str(folder)))
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
