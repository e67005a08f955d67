"""The core layer: pure functions and small immutable types over pandas and numpy.

The instrument model, responses, scoring, agreement and reliability, peer statistics,
driver analysis, roadmap planning, the whole assessment, portfolio tables and the
synthetic panel model. No file I/O, no plotting, no printing, no global state; imports
nothing from the layers above (``io``, ``report``, ``apps``).
"""
