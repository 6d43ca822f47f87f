#!/usr/bin/env python3
"""The import graph of src/ by top-level module, checked against the one-way data flow.

    python3 scripts/import-graph.py          # prints the graph; exit 1 on a circle or an
                                             # import running back up the stages

The stages, in order (lib.rs): input -> prompt -> model -> score -> select -> metrics ->
report, then the commands (cmd) and the command line (cli, config) on top. Utilities any stage
may use, and that use no stage: loc, grid, outdir, rng, text, progress, console, interrupt,
hash, hub, patch, prob, checkpoint. bench measures the model stage (it sits beside cmd).

A module's imports are its `crate::X` paths (any form: `use crate::X`, `crate::X::f(...)`),
counted by the first path segment; tests (`#[cfg(test)] mod tests` files and blocks) are left
out, since a test may build inputs from any stage. Standard library only.
"""
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
STAGES = ["input", "prompt", "model", "score", "select", "metrics", "report", "bench", "cmd", "config", "cli"]
UTILITIES = {"loc", "grid", "outdir", "rng", "text", "progress", "console", "interrupt", "hash", "hub", "patch",
             "prob", "checkpoint"}
# bench and cmd sit on the same level (cmd runs bench); config validates the CLI into settings
# that cmd runs, and cli is parsed first: their order among themselves is not a flow of data.
PEERS = {frozenset({"bench", "cmd"}), frozenset({"cmd", "config"}), frozenset({"config", "cli"}),
         frozenset({"cmd", "cli"})}


def top_module(path):
    rel = os.path.relpath(path, ROOT)
    first = rel.split(os.sep)[0]
    return first[:-3] if first.endswith(".rs") else first


def strip_tests(text):
    """The text without `#[cfg(test)]` items (a brace-balanced block after the attribute)."""
    out, i = [], 0
    while True:
        j = text.find("#[cfg(test)]", i)
        if j < 0:
            out.append(text[i:])
            return "".join(out)
        out.append(text[i:j])
        k = text.find("{", j)
        semi = text.find(";", j)
        if k < 0 or (0 <= semi < k):  # `#[cfg(test)] mod tests;` or a one-line item
            i = semi + 1
            continue
        depth, p = 0, k
        while p < len(text):
            depth += {"{": 1, "}": -1}.get(text[p], 0)
            p += 1
            if depth == 0:
                break
        i = p


def main():
    graph = {}
    for dirpath, _, files in os.walk(ROOT):
        for f in files:
            if not f.endswith(".rs") or f == "tests.rs" or f in ("main.rs", "lib.rs"):
                continue
            path = os.path.join(dirpath, f)
            me = top_module(path)
            text = strip_tests(open(path, encoding="utf-8").read())
            text = re.sub(r"//[^\n]*", "", text)
            for m in re.finditer(r"\bcrate::(\w+)", text):
                dep = m.group(1)
                if dep != me:
                    graph.setdefault(me, set()).add(dep)
            # `use crate::{a, b::c}` groups
            for m in re.finditer(r"\bcrate::\{([^}]*)\}", text):
                for dep in re.findall(r"(?:^|,)\s*(\w+)", m.group(1)):
                    if dep != me:
                        graph.setdefault(me, set()).add(dep)
    problems = []
    for me in sorted(graph):
        deps = sorted(graph[me])
        print(f"{me:>11} -> {', '.join(deps)}")
        for d in deps:
            if me in UTILITIES and d not in UTILITIES:
                problems.append(f"utility {me} imports the stage {d}")
            if me in STAGES and d in STAGES and STAGES.index(d) > STAGES.index(me) and frozenset({me, d}) not in PEERS:
                problems.append(f"{me} imports {d}, a later stage")
    # circles among top-level modules
    seen, stack = set(), []

    def visit(n):
        if n in stack:
            problems.append("circle: " + " -> ".join(stack[stack.index(n):] + [n]))
            return
        if n in seen:
            return
        seen.add(n)
        stack.append(n)
        for d in sorted(graph.get(n, ())):
            visit(d)
        stack.pop()

    for n in sorted(graph):
        visit(n)
    if problems:
        print("\n".join(sorted(set(problems))), file=sys.stderr)
        sys.exit(1)
    print("no circle; no stage imports a later one; utilities import no stage")


if __name__ == "__main__":
    main()
