"""The apps layer: what a person starts.

The ``readiness`` command line (:mod:`.cli`), the batch runner over local processes or
Dask (:mod:`.batch`) and the live workshop app (:mod:`.workshop`). The top layer: it may
import from every layer below, and nothing imports from it.
"""
