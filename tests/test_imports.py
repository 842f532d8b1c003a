"""The package's imports flow one way: no cycle among dng's modules, lazy imports included."""

import ast
from pathlib import Path

import dng

ROOT = Path(dng.__file__).parent


def _graph() -> dict[str, set[str]]:
    g = {}
    for p in ROOT.rglob("*.py"):
        name = "dng." + ".".join(p.relative_to(ROOT).with_suffix("").parts)
        name = name.removesuffix(".__init__")
        deps = set()
        for node in ast.walk(ast.parse(p.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("dng"):
                deps.add(node.module)
            elif isinstance(node, ast.Import):
                deps |= {a.name for a in node.names if a.name.startswith("dng")}
        g[name] = deps - {name}
    return g


def test_no_import_cycles():
    g = _graph()
    state: dict[str, int] = {}
    found = []

    def visit(n, path):
        if state.get(n) == 1:
            found.append(" → ".join(path[path.index(n):] + [n]))
            return
        if state.get(n) == 2:
            return
        state[n] = 1
        for d in sorted(g.get(n, ())):
            visit(d, path + [n])
        state[n] = 2

    for n in sorted(g):
        visit(n, [])
    assert not found, found[:5]
