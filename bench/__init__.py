"""Benchmarks: `make bench` (`python -m bench`) reruns them all and rewrites bench/README.md."""
