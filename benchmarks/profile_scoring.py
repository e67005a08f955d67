"""Where scoring's time goes: the CPU time of each statement of the engine's hot functions.

Scores the benchmark's data (``bench_scoring.make_responses``) with ``score(responses,
n_boot=0)`` after rewriting the named functions of ``readiness.core.scoring`` so that each
statement is charged the CPU time since the previous one (statements inside loops add
up over the iterations; the first statement of a function is also charged what its
caller did since the last mark). Prints the statements by time, median per call, then
cProfile's functions by own time. The rewrite adds 10-20 per cent; compare runs of one
session, not figures of different days. ``benchmarks/README.md`` groups the statements
into steps.

    python benchmarks/profile_scoring.py [--orgs 10000] [--respondents 20] [--repeat 10] [--top 40]
        [--functions score,_respondent_pass]
"""

from __future__ import annotations

import argparse
import ast
import collections
import cProfile
import pstats
import statistics
import sys
import time
from pathlib import Path
from types import ModuleType

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_scoring import make_responses

import readiness.core.scoring as engine


class _Marks(ast.NodeTransformer):
    """Adds ``_mark(line)`` after every statement of the named functions (and of their loops and branches)."""

    def __init__(self, functions: set[str]) -> None:
        self.functions = functions

    def _body(self, body: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for statement in body:
            if isinstance(statement, (ast.For, ast.While, ast.If, ast.With)):
                statement.body = self._body(statement.body)
                statement.orelse = self._body(getattr(statement, "orelse", []))
            if isinstance(statement, ast.Return) and statement.value is not None:
                # charge the returned expression to its line, then return it
                keep = ast.Assign(targets=[ast.Name("_returned", ast.Store())], value=statement.value)
                out += [keep, _call(statement.lineno), ast.Return(ast.Name("_returned", ast.Load()))]
            elif isinstance(statement, (ast.Return, ast.FunctionDef)):
                out.append(statement)
            else:
                out += [statement, _call(statement.lineno)]
        return out

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.FunctionDef:
        if node.name in self.functions:
            node.body = self._body(node.body)
        return node


def _call(line: int) -> ast.stmt:
    return ast.Expr(ast.Call(ast.Name("_mark", ast.Load()), [ast.Constant(line)], []))


def instrumented(module: ModuleType, functions: set[str]) -> tuple[ModuleType, dict[int, float], list[str]]:
    """A copy of ``module`` whose ``functions`` record CPU time per source line."""
    path = Path(str(module.__file__))
    source = path.read_text()
    tree = ast.fix_missing_locations(_Marks(functions).visit(ast.parse(source)))
    spent: dict[int, float] = collections.defaultdict(float)
    last = [time.process_time()]

    def _mark(line: int) -> None:
        now = time.process_time()
        spent[line] += now - last[0]
        last[0] = time.process_time()  # the mark's own cost is not charged to the next line

    copy = ModuleType(module.__name__ + "_profiled")
    copy.__dict__.update({"__file__": str(path), "__package__": module.__package__, "_mark": _mark})
    sys.modules[copy.__name__] = copy  # dataclasses look their module up there
    exec(compile(tree, str(path), "exec"), copy.__dict__)
    return copy, spent, source.splitlines()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orgs", type=int, default=10_000)
    parser.add_argument("--respondents", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--functions", default="score,_respondent_pass")
    args = parser.parse_args()

    responses = make_responses(args.orgs, args.respondents)
    profiled, spent, lines = instrumented(engine, set(args.functions.split(",")))
    profiled.score(responses, n_boot=0)  # warm-up: cached properties and tables
    spent.clear()
    calls = []
    for _ in range(args.repeat):
        t0 = time.process_time()
        profiled.score(responses, n_boot=0)
        calls.append(time.process_time() - t0)
    print(
        f"score(responses, n_boot=0), {args.orgs} x {args.respondents} respondents, instrumented: "
        f"median {statistics.median(calls) * 1000:.0f} ms per call over {args.repeat}"
    )
    for line, seconds in sorted(spent.items(), key=lambda kv: -kv[1])[: args.top]:
        print(f"{seconds / args.repeat * 1000:8.1f} ms  line {line:4d}  {lines[line - 1].strip()[:90]}")

    profile = cProfile.Profile()
    profile.enable()
    engine.score(responses, n_boot=0)
    profile.disable()
    pstats.Stats(profile).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
