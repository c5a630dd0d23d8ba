"""Conformance kernels: each prints one line per architectural check."""
