"""Bundled data (the example center, the synthetic peer panel), shipped in the wheel as ``readiness.data``."""
