"""Throughput and memory benchmarks of the extraction, run as scripts (see README.md)."""
