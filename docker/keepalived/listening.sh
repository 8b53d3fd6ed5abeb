#!/bin/sh
# keepalived track script (generated): succeeds while something in this network namespace listens
# on TCP ADDRESS:PORT, i.e. while the node's HAProxy or PgBouncer, in a container of its own that
# shares the namespace, runs. Usage: listening.sh ADDRESS PORT
[ -n "$(ss -Hltn src "$1" sport = ":$2")" ]
