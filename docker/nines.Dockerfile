# nines itself: exporters, SLO service, demo apps and the mail sink.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY exporters exporters
COPY sloapi sloapi
COPY stack stack
RUN pip install --no-cache-dir '.[dev]'
USER nobody
