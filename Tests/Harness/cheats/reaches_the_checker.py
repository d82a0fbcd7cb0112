# expect: dynamic-code
"""Replaces the harness's own checks (in the checker's process they would not even be there)."""
import harness.verify as checks

checks.check_case = lambda *args: {"ok": True}


def matmul(a, b, out):
    pass
