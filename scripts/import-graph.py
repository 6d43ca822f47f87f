#!/usr/bin/env python3
"""The import graph of src/ by top-level module, checked against the one-way data flow.

    python3 scripts/import-graph.py          # prints the graph; exit 1 on a circle or an
                                             # import running back up the stages

The stages, in order (lib.rs): input -> prompt -> model -> score -> calibrate -> select ->
metrics -> report, then the commands (cmd) and the command line (cli, config) on top. Utilities any stage
may use, and that use no stage: loc, grid, outdir, rng, text, progress, console, interrupt,
hash, hub, patch, prob, checkpoint. bench measures the model stage (it sits beside cmd).

A module's imports are its `crate::X` paths (any form: `use crate::X`, `crate::X::f(...)`),
counted by the first path segment; tests (`#[cfg(test)] mod tests` files and blocks) are left
out, since a test may build inputs from any stage. Standard library only.

Within the stages, files must not form a circle either (`file_circles`): every `crate::`,
`super::` and `self::` path of a file resolves to the file of the deepest module it names
(`crate::score::store::ScoreLine` -> src/score/store/mod.rs). A module root (mod.rs, or X.rs
beside a folder X/) that names its own children assembles them (`mod`, `pub use`): those edges
are not counted, the children's edges to it are.
"""
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
STAGES = ["input", "prompt", "model", "score", "calibrate", "select", "metrics", "report", "bench", "cmd", "config",
          "cli"]
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
    problems += file_circles()
    if problems:
        print("\n".join(sorted(set(problems))), file=sys.stderr)
        sys.exit(1)
    print("no circle; no stage imports a later one; utilities import no stage")


def module_of(path):
    """A file's module path: src/score/store/line.rs -> (score, store, line)."""
    rel = os.path.relpath(path, ROOT)[:-3].split(os.sep)
    if rel[-1] in ("mod", "lib", "main"):
        rel = rel[:-1]
    return tuple(rel)


def file_of(module, files):
    """The file of the deepest module along `module` (a path of names)."""
    for n in range(len(module), 0, -1):
        f = files.get(module[:n])
        if f:
            return f
    return None


def paths_of(text):
    """The module paths a file's text names: crate::a::b, super::x, self::y, with one level of
    `{...}` groups expanded."""
    out = []
    for m in re.finditer(r"\b((?:crate|super|self)(?:::(?:super|\w+))*)(::\{([^{}]*)\})?", text):
        base = m.group(1).split("::")
        if m.group(3) is not None:
            for item in m.group(3).split(","):
                item = item.strip()
                if item and item != "self":
                    out.append(base + [w for w in re.split(r"::", item.split(" as ")[0].strip()) if w and w != "*"])
                elif item == "self":
                    out.append(base)
        else:
            out.append(base)
    return out


def file_circles():
    files = {}
    for dirpath, _, names in os.walk(ROOT):
        for f in names:
            if f.endswith(".rs") and f not in ("tests.rs", "main.rs", "lib.rs"):
                path = os.path.join(dirpath, f)
                files[module_of(path)] = path
    edges = {}
    for me, path in files.items():
        text = strip_tests(open(path, encoding="utf-8").read())
        text = re.sub(r"//[^\n]*", "", text)
        for p in paths_of(text):
            if p[0] == "crate":
                target = tuple(p[1:])
            else:
                cur = list(me)
                for w in p:
                    if w == "super":
                        cur = cur[:-1]
                    elif w != "self":
                        cur.append(w)
                target = tuple(cur)
            f = file_of(target, files)
            if not f or f == path:
                continue
            if module_of(f)[: len(me)] == me:  # a module root naming its own children
                continue
            edges.setdefault(path, set()).add(f)
    problems, seen, stack = [], set(), []
    rel = lambda p: os.path.relpath(p, os.path.join(ROOT, ".."))  # noqa: E731

    def visit(n):
        if n in stack:
            problems.append("file circle: " + " -> ".join(rel(x) for x in stack[stack.index(n):] + [n]))
            return
        if n in seen:
            return
        seen.add(n)
        stack.append(n)
        for d in sorted(edges.get(n, ())):
            visit(d)
        stack.pop()

    for n in sorted(edges):
        visit(n)
    return problems


if __name__ == "__main__":
    main()
