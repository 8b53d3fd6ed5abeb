# Debian's PgBouncer; the entrypoint writes the userlist from the environment.
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends pgbouncer \
    && rm -rf /var/lib/apt/lists/* && mkdir -p /var/run/pgbouncer && chown postgres /var/run/pgbouncer
COPY docker/pgbouncer-entrypoint.sh /usr/local/bin/pgbouncer-entrypoint
USER postgres
ENTRYPOINT ["/usr/local/bin/pgbouncer-entrypoint"]
