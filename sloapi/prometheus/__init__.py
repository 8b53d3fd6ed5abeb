"""Every read of Prometheus: the client, its answers decoded, range chunking, batching, and the
per-step series of one SLO (`fetch_steps`). Nothing outside this package speaks to Prometheus."""

from sloapi.prometheus.batch import PendingRange, QueryBatch
from sloapi.prometheus.client import PromClient
from sloapi.prometheus.decode import RangeSeries, Sample, decode_matrix, first_value
from sloapi.prometheus.fetch import fetch_steps

__all__ = [
    "PendingRange",
    "PromClient",
    "QueryBatch",
    "RangeSeries",
    "Sample",
    "decode_matrix",
    "fetch_steps",
    "first_value",
]
