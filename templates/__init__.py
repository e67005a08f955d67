"""Bundled templates (instruments, playbooks, references, report), shipped in the wheel as ``readiness.templates``."""
