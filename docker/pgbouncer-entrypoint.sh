#!/bin/sh
# Write PgBouncer's userlist from the environment, then run it in the foreground.
set -eu
umask 077
list=/var/run/pgbouncer/userlist.txt
printf '"app" "%s"\n"nines_admin" "%s"\n"nines_stats" "%s"\n' \
  "$NINES_APP_PASSWORD" "$NINES_ADMIN_PASSWORD" "$NINES_STATS_PASSWORD" > "$list"
sed "s#/etc/pgbouncer/userlist.txt#$list#" /etc/pgbouncer/pgbouncer.ini > /var/run/pgbouncer/pgbouncer.ini
exec pgbouncer /var/run/pgbouncer/pgbouncer.ini
