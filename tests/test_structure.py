"""The shape of the code: arrows point down, entry points stay out of the library, and a command
imports only what it uses."""

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parent.parent
HEAVY = ("dash", "plotly", "matplotlib", "argon2", "openpyxl", "apscheduler", "pandas", "waitress", "flask")


def modules() -> dict[str, Path]:
    found = {}
    for package in ("tracker", "dashboards"):
        for path in (ROOT / package).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def imports_of(path: Path, known: dict[str, Path]) -> list[tuple[str, ast.AST]]:
    """(imported module of ours, the import node) for every import in the file, functions' included."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                target = f"{node.module}.{alias.name}"
                out.append((target if target in known else node.module, node))
        elif isinstance(node, ast.Import):
            out += [(alias.name, node) for alias in node.names]
    return [(t, n) for t, n in out if t in known]


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: {t for t, _ in imports_of(path, known) if t != name} for name, path in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in edges:
        if v not in index:
            visit(v)
    return found


def test_the_cycle_finder_finds_a_cycle():  # so that the next test can fail
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_of_the_library_or_the_dashboard_is_in_an_import_cycle():
    assert cycles(graph()) == []


def test_the_library_never_imports_an_entry_point():
    for name, targets in graph().items():
        if name.startswith("tracker") and not name.startswith(("tracker.cli", "tracker.__main__")):  # entry points
            assert not {t for t in targets if t.startswith(("tracker.cli", "dashboards"))}, name


def test_no_module_imports_a_private_name_of_the_cli():
    known = modules()
    for name, path in known.items():
        for target, node in imports_of(path, known):
            if target.startswith("tracker.cli") and isinstance(node, ast.ImportFrom):
                assert not [a.name for a in node.names if a.name.startswith("_")], name


def test_tracker_status_imports_none_of_the_heavy_libraries(tmp_path):
    url = f"sqlite:///{tmp_path / 'status.sqlite3'}"
    code = (
        "import sys\n"
        "from tracker.cli import run\n"
        f"assert run(['--db', {url!r}, 'db', 'upgrade']) == 0\n"
        f"assert run(['--db', {url!r}, 'campaign', 'create', '--slug', 'dec-2026', '--name', 'Y', '--goal', '100',"
        " '--start', '2026-12-01', '--end', '2026-12-31', '--timezone', 'UTC']) == 0\n"
        f"assert run(['--db', {url!r}, 'status', '--json']) == 0\n"
        "print('MODULES', sorted({m.split('.')[0] for m in sys.modules}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    loaded = set(json.loads(done.stdout.rsplit("MODULES ", 1)[1].replace("'", '"')))
    assert "sqlalchemy" in loaded  # the check sees what was imported
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))
