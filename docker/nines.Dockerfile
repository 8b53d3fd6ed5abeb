# nines itself: exporters, SLO service, demo apps and the mail sink, run as user nines (10001).
# docker-compose.yml names the same uid:gid (stack/docker.py NINES) for the volumes it writes.
FROM python:3.11-slim
RUN groupadd --system --gid 10001 nines \
    && useradd --system --uid 10001 --gid nines --home-dir /var/lib/nines --no-create-home \
       --shell /usr/sbin/nologin nines \
    && install -d -o nines -g nines -m 0750 /var/lib/nines /var/lib/nines/sink
WORKDIR /app
COPY pyproject.toml README.md ./
COPY exporters exporters
COPY sloapi sloapi
COPY stack stack
RUN pip install --no-cache-dir '.[dev]'
USER 10001:10001
