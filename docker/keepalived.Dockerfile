# Debian's keepalived (2.2.7, as the local stack) and the scripts its config names, owned by root:
# keepalived runs a script only when no other user can write it or a directory above it.
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends keepalived iproute2 \
    && rm -rf /var/lib/apt/lists/*
COPY --chown=0:0 --chmod=0755 docker/keepalived/listening.sh docker/keepalived/notify.sh /usr/local/lib/nines/
