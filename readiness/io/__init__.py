"""The io layer: reading, validating and writing.

Loaders for instruments, responses and profiles, the DuckDB stores (peers, workshop
sessions), the exporters (JSON, XLSX, CSV, written atomically), the fill-in workbook, the
files the package carries, and the pipeline from input files to results documents.
Every input is validated here and turned into the core's types or a clear
:class:`~readiness.core.errors.InputError`. Imports only from ``core``.
"""
