# PostgreSQL 15 (official image) with Debian's Patroni.
FROM postgres:15-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends patroni python3-etcd3 \
    && rm -rf /var/lib/apt/lists/*
ENV PATH=/usr/lib/postgresql/15/bin:$PATH
