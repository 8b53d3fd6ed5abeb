"""The framework the exporters share: config, targets, parallel collection, HTTP and logging.

See README.md in this package for the API and a minimal exporter.
"""
