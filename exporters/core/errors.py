"""The exporters' one exception hierarchy: all they raise on purpose derives from ExporterError."""


class ExporterError(Exception):
    """Root of every error an exporter raises on purpose."""


class ConfigError(ExporterError):
    """A flag or the config file is invalid; the message names the setting (and file:line)."""


class TargetError(ExporterError):
    """A target could not be reached or answered badly (refused, timed out, auth failed)."""


class ParseError(ExporterError):
    """A target answered, but its output could not be parsed (garbled, truncated, unknown shape)."""
