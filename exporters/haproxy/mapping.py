"""Declarative tables: HAProxy `show info` keys and `show stat` columns -> promex metric families.

Names, types, units and help follow HAProxy 2.6's built-in exporter (promex). Times given in
milliseconds by HAProxy are exported in seconds.
"""

from __future__ import annotations

from typing import NamedTuple

from exporters.core.metrics import MetricType

G: MetricType = "gauge"
C: MetricType = "counter"

# How a field becomes a sample value.
RAW = 0  # the field as is; an empty field gives no sample
MS = 1  # milliseconds -> seconds
NAN = 2  # the field as is; an empty field gives NaN (promex does so for unset limits)


class InfoMetric(NamedTuple):
    """A `show info` key exported as `haproxy_process_<suffix>`."""

    key: str
    suffix: str
    type: MetricType
    help: str
    scale: float = 1.0


class StatMetric(NamedTuple):
    """A `show stat` column exported for the object kinds in `kinds` (F, B, S, L)."""

    column: str
    suffix: str
    type: MetricType
    help: str
    kinds: str
    conv: int = RAW
    server_conv: int = RAW


INFO: tuple[InfoMetric, ...] = (
    InfoMetric("Nbthread", "nbthread", G, "Number of started threads (global.nbthread)."),
    InfoMetric("Nbproc", "nbproc", G, "Number of started worker processes (always 1)."),
    InfoMetric("Process_num", "relative_process_id", G, "Relative worker process number (1)."),
    InfoMetric("Uptime_sec", "uptime_seconds", G, "How long ago this worker process started."),
    InfoMetric("PoolFailed", "pool_failures_total", C, "Failed pool allocations since start."),
    InfoMetric("Ulimit-n", "max_fds", G, "Hard limit on per-process file descriptors."),
    InfoMetric("Maxsock", "max_sockets", G, "Hard limit on per-process sockets."),
    InfoMetric("Maxconn", "max_connections", G, "Hard limit on per-process connections."),
    InfoMetric("Hard_maxconn", "hard_max_connections", G, "Hard limit on connections (Ulimit)."),
    InfoMetric("CurrConns", "current_connections", G, "Current connections of this process."),
    InfoMetric("CumConns", "connections_total", C, "Connections since the process started."),
    InfoMetric("CumReq", "requests_total", C, "Requests since the process started."),
    InfoMetric("MaxSslConns", "max_ssl_connections", G, "Hard limit on SSL endpoints, 0=none."),
    InfoMetric("CurrSslConns", "current_ssl_connections", G, "Current SSL endpoints."),
    InfoMetric("CumSslConns", "ssl_connections_total", C, "SSL endpoints since start."),
    InfoMetric("Maxpipes", "max_pipes", G, "Hard limit on pipes for splicing, 0=unlimited."),
    InfoMetric("PipesUsed", "pipes_used_total", C, "Pipes in use (promex's type and name)."),
    InfoMetric("PipesFree", "pipes_free_total", C, "Free pipes (promex's type and name)."),
    InfoMetric("ConnRate", "current_connection_rate", G, "Connections over the last second."),
    InfoMetric("ConnRateLimit", "limit_connection_rate", G, "global.maxconnrate."),
    InfoMetric("MaxConnRate", "max_connection_rate", G, "Highest connection rate reached."),
    InfoMetric("SessRate", "current_session_rate", G, "Sessions over the last second."),
    InfoMetric("SessRateLimit", "limit_session_rate", G, "global.maxsessrate."),
    InfoMetric("MaxSessRate", "max_session_rate", G, "Highest session rate reached."),
    InfoMetric("SslRate", "current_ssl_rate", G, "SSL connections over the last second."),
    InfoMetric("SslRateLimit", "limit_ssl_rate", G, "global.maxsslrate."),
    InfoMetric("MaxSslRate", "max_ssl_rate", G, "Highest SSL connection rate reached."),
    InfoMetric("SslFrontendKeyRate", "current_frontend_ssl_key_rate", G, "Frontend SSL keys per second."),
    InfoMetric("SslFrontendMaxKeyRate", "max_frontend_ssl_key_rate", G, "Highest frontend SSL key rate."),
    InfoMetric("SslFrontendSessionReuse_pct", "frontend_ssl_reuse", G, "Percent of frontend SSL reuse."),
    InfoMetric("SslBackendKeyRate", "current_backend_ssl_key_rate", G, "Backend SSL keys per second."),
    InfoMetric("SslBackendMaxKeyRate", "max_backend_ssl_key_rate", G, "Highest backend SSL key rate."),
    InfoMetric("SslCacheLookups", "ssl_cache_lookups_total", C, "SSL session cache lookups."),
    InfoMetric("SslCacheMisses", "ssl_cache_misses_total", C, "SSL session cache misses."),
    InfoMetric("CompressBpsIn", "http_comp_bytes_in_total", C, "Bytes into the compressor (1s)."),
    InfoMetric("CompressBpsOut", "http_comp_bytes_out_total", C, "Bytes out of compressor (1s)."),
    InfoMetric("CompressBpsRateLim", "limit_http_comp", G, "Compression rate limit."),
    InfoMetric("ZlibMemUsage", "current_zlib_memory", G, "Memory used by compression (bytes)."),
    InfoMetric("MaxZlibMemUsage", "max_zlib_memory", G, "Limit of compression memory (bytes)."),
    InfoMetric("Tasks", "current_tasks", G, "Tasks in the worker process."),
    InfoMetric("Run_queue", "current_run_queue", G, "Active tasks and tasklets."),
    InfoMetric("Idle_pct", "idle_time_percent", G, "Percent of last second spent idle."),
    InfoMetric("Stopping", "stopping", G, "1 if the worker process is stopping."),
    InfoMetric("Jobs", "jobs", G, "Active jobs (connections, listeners)."),
    InfoMetric("Unstoppable Jobs", "unstoppable_jobs", G, "Unstoppable jobs."),
    InfoMetric("Listeners", "listeners", G, "Active listeners."),
    InfoMetric("ActivePeers", "active_peers", G, "Verified active peer connections."),
    InfoMetric("ConnectedPeers", "connected_peers", G, "Peers past the connection step."),
    InfoMetric("DroppedLogs", "dropped_logs_total", C, "Dropped logs since start."),
    InfoMetric("BusyPolling", "busy_polling_enabled", G, "1 if busy-polling is in use."),
    # promex 2.6 names this counter without _total; we follow promtool (see the docs).
    InfoMetric("FailedResolutions", "failed_resolutions_total", C, "Failed DNS resolutions since start."),
    InfoMetric("TotalBytesOut", "bytes_out_total", C, "Bytes emitted since start."),
    InfoMetric("TotalSplicdedBytesOut", "spliced_bytes_out_total", C, "Bytes emitted through pipes."),
    InfoMetric("BytesOutRate", "bytes_out_rate", G, "Bytes emitted over the last second."),
    InfoMetric("CumRecvLogs", "recv_logs_total", C, "Log messages received by log-forwarders."),
    InfoMetric("Memmax_bytes", "max_memory_bytes", G, "Hard memory limit (-m), bytes."),
    InfoMetric("PoolAlloc_bytes", "pool_allocated_bytes", G, "Memory allocated in pools."),
    InfoMetric("PoolUsed_bytes", "pool_used_bytes", G, "Pool memory in use."),
    InfoMetric("Start_time_sec", "start_time_seconds", G, "Start time (Unix seconds)."),
)

# Older versions give megabytes instead of bytes.
INFO_FALLBACKS: dict[str, tuple[str, float]] = {
    "Memmax_bytes": ("Memmax_MB", 1048576.0),
    "PoolAlloc_bytes": ("PoolAlloc_MB", 1048576.0),
    "PoolUsed_bytes": ("PoolUsed_MB", 1048576.0),
}

_TIME_AVG = "for the last 1024 successful connections, in seconds."
STAT: tuple[StatMetric, ...] = (
    StatMetric("qcur", "current_queue", G, "Current queued connections.", "BS"),
    StatMetric("qmax", "max_queue", G, "Highest queued connections seen.", "BS"),
    StatMetric("scur", "current_sessions", G, "Current sessions.", "FBSL"),
    StatMetric("smax", "max_sessions", G, "Highest current sessions seen.", "FBSL"),
    StatMetric("slim", "limit_sessions", G, "Configured maxconn (fullconn for backends).", "FBSL", RAW, NAN),
    StatMetric("stot", "sessions_total", C, "Sessions since the process started.", "FBSL"),
    StatMetric("bin", "bytes_in_total", C, "Request bytes since the process started.", "FBSL"),
    StatMetric("bout", "bytes_out_total", C, "Response bytes since the process started.", "FBSL"),
    StatMetric("dreq", "requests_denied_total", C, "Denied requests.", "FBL"),
    StatMetric("dresp", "responses_denied_total", C, "Denied responses.", "FBSL"),
    StatMetric("ereq", "request_errors_total", C, "Invalid requests.", "FL"),
    StatMetric("econ", "connection_errors_total", C, "Failed connections to servers.", "BS"),
    StatMetric("eresp", "response_errors_total", C, "Invalid responses.", "BS"),
    StatMetric("wretr", "retry_warnings_total", C, "Server connection retries.", "BS"),
    StatMetric("wredis", "redispatch_warnings_total", C, "Redispatches to another server.", "BS"),
    StatMetric("weight", "weight", G, "Effective weight (backends: sum of active servers').", "BS"),
    StatMetric("act", "active_servers", G, "Active UP servers with a non-zero weight.", "B"),
    StatMetric("bck", "backup_servers", G, "Backup UP servers with a non-zero weight.", "B"),
    # promex gives NaN for a server without health checks where `show stat` leaves these empty
    StatMetric("chkfail", "check_failures_total", C, "Failed health checks.", "S", NAN, NAN),
    StatMetric("chkdown", "check_up_down_total", C, "UP to DOWN transitions.", "BS", RAW, NAN),
    StatMetric("lastchg", "check_last_change_seconds", G, "Seconds since the last change.", "BS"),
    StatMetric("downtime", "downtime_seconds_total", C, "Seconds spent DOWN.", "BS", RAW, NAN),
    StatMetric("qlimit", "queue_limit", G, "Configured maxqueue.", "S", NAN, NAN),
    StatMetric("throttle", "current_throttle", G, "Slowstart throttle percent.", "S", NAN, NAN),
    StatMetric("lbtot", "loadbalanced_total", C, "Times selected by load balancing.", "BS"),
    StatMetric("rate_lim", "limit_session_rate", G, "Configured rate-limit sessions.", "F"),
    StatMetric("rate_max", "max_session_rate", G, "Highest sessions per second seen.", "FBS"),
    StatMetric("check_duration", "check_duration_seconds", G, "Last health check's duration.", "S", MS, MS),
    StatMetric("req_rate_max", "http_requests_rate_max", G, "Highest HTTP requests/s.", "F"),
    StatMetric("req_tot", "http_requests_total", C, "HTTP requests processed.", "FB"),
    StatMetric("cli_abrt", "client_aborts_total", C, "Transfers aborted by the client.", "BS"),
    StatMetric("srv_abrt", "server_aborts_total", C, "Transfers aborted by the server.", "BS"),
    StatMetric("comp_in", "http_comp_bytes_in_total", C, "Bytes fed to the compressor.", "FB"),
    StatMetric("comp_out", "http_comp_bytes_out_total", C, "Bytes out of the compressor.", "FB"),
    StatMetric("comp_byp", "http_comp_bytes_bypassed_total", C, "Bytes that bypassed compression.", "FB"),
    StatMetric("comp_rsp", "http_comp_responses_total", C, "Compressed HTTP responses.", "FB"),
    StatMetric("lastsess", "last_session_seconds", G, "Seconds since the last session.", "BS"),
    StatMetric("qtime", "queue_time_average_seconds", G, "Avg queue time " + _TIME_AVG, "BS", MS, MS),
    StatMetric("ctime", "connect_time_average_seconds", G, "Avg connect time " + _TIME_AVG, "BS", MS, MS),
    StatMetric("rtime", "response_time_average_seconds", G, "Avg response time " + _TIME_AVG, "BS", MS, MS),
    StatMetric("ttime", "total_time_average_seconds", G, "Avg total time " + _TIME_AVG, "BS", MS, MS),
    StatMetric("conn_rate_max", "connections_rate_max", G, "Highest connections/s.", "F"),
    StatMetric("conn_tot", "connections_total", C, "Connections accepted.", "F"),
    StatMetric("intercepted", "intercepted_requests_total", C, "Intercepted requests.", "F"),
    StatMetric("dcon", "denied_connections_total", C, "Connections denied by rules.", "FL"),
    StatMetric("dses", "denied_sessions_total", C, "Sessions denied by rules.", "FL"),
    StatMetric("wrew", "failed_header_rewriting_total", C, "Failed header rewrites.", "FBSL"),
    StatMetric("connect", "connection_attempts_total", C, "Outgoing connection attempts.", "BS"),
    StatMetric("reuse", "connection_reuses_total", C, "Reused connections.", "BS"),
    StatMetric("cache_lookups", "http_cache_lookups_total", C, "HTTP cache lookups.", "FB"),
    StatMetric("cache_hits", "http_cache_hits_total", C, "HTTP cache hits.", "FB"),
    StatMetric("srv_icur", "idle_connections_current", G, "Idle connections for reuse.", "S"),
    StatMetric("src_ilim", "idle_connections_limit", G, "Configured pool-max-conn.", "S", NAN, NAN),
    StatMetric("qtime_max", "max_queue_time_seconds", G, "Longest queue time.", "BS", MS, MS),
    StatMetric("ctime_max", "max_connect_time_seconds", G, "Longest connect time.", "BS", MS, MS),
    StatMetric("rtime_max", "max_response_time_seconds", G, "Longest response time.", "BS", MS, MS),
    StatMetric("ttime_max", "max_total_time_seconds", G, "Longest total time.", "BS", MS, MS),
    StatMetric("eint", "internal_errors_total", C, "Internal errors.", "FBSL"),
    StatMetric("idle_conn_cur", "unsafe_idle_connections_current", G, "Unsafe idle connections.", "S"),
    StatMetric("safe_conn_cur", "safe_idle_connections_current", G, "Safe idle connections.", "S"),
    StatMetric("used_conn_cur", "used_connections_current", G, "Connections in use.", "S"),
    StatMetric("need_conn_est", "need_connections_current", G, "Estimated needed conns.", "S"),
    StatMetric("uweight", "uweight", G, "User weight (backends: sum of active servers').", "BS"),
)

HTTP_CODES: tuple[tuple[str, str], ...] = (
    ("hrsp_1xx", "1xx"),
    ("hrsp_2xx", "2xx"),
    ("hrsp_3xx", "3xx"),
    ("hrsp_4xx", "4xx"),
    ("hrsp_5xx", "5xx"),
    ("hrsp_other", "other"),
)

KIND_PREFIX = {"F": "frontend", "B": "backend", "S": "server", "L": "listener"}

# Every `show stat` column the families read; `parse_stat` keeps these only.
STAT_COLUMNS: frozenset[str] = frozenset(
    [m.column for m in STAT]
    + [c for c, _ in HTTP_CODES]
    + ["pxname", "svname", "type", "status", "check_status", "check_code", "act", "bck"]
)
