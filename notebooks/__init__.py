"""The notebook suite, shipped in the wheel as ``readiness.notebooks``; ``readiness notebooks DIR`` copies it."""
