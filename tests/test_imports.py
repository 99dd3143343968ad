"""The project's own modules import each other without cycles, and at the top of the file.

Read from the source with ``ast`` (nothing is imported): an import inside a function counts as an edge
too, since it runs on the first call, and importing ``a.b.c`` runs the ``__init__`` of ``a`` and ``a.b``.
Imports by name at run time (``importlib.import_module``) are not seen.
"""
from __future__ import annotations

import ast
from collections import deque
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("coderm", "executor", "difficulty")

# Function-local imports of the project's own modules, as "file:function: module", with the reason.
ALLOWED = {
    "executor/__init__.py:__getattr__: executor.runner":
        "lazy export: workers import executor but must not load multiprocess",
    "executor/__init__.py:__getattr__: executor.matrix":
        "lazy export: workers import executor but must not load numpy",
    "coderm/cli/serve.py:run: coderm.rl.server":
        "the server module needs starlette, the optional serve extra; every CLI command loads cli/serve.py",
    "coderm/orm/__init__.py:load_orm: coderm.orm.sklearn_orm":
        "the scikit-learn ORM needs the optional ml extra; the prune stages load coderm.orm for every pipeline",
    "coderm/cli/orm.py:train: coderm.orm.sklearn_orm":
        "training needs the optional ml extra; every CLI command loads cli/orm.py",
}

def module_files() -> dict[str, Path]:
    files = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            files[".".join(parts)] = path
    return files


MODULES = module_files()


def is_type_checking_block(node: ast.AST) -> bool:
    """``if TYPE_CHECKING:`` -- its imports never run."""
    return isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def imports(module: str) -> list[tuple[str, str | None]]:
    """(imported name, enclosing function or None) for every import statement of ``module``
    that runs; ``from m import x`` gives ``m.x``."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []

    def visit(node: ast.AST, function: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            if is_type_checking_block(child):
                continue
            if isinstance(child, ast.Import):
                found.extend((alias.name, function) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.rsplit(".", child.level - 1)[0]
                    base = f"{anchor}.{base}" if base else anchor
                found.extend((f"{base}.{alias.name}", function) for alias in child.names)
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                visit(child, function or child.name)
            else:
                visit(child, function)

    visit(ast.parse(path.read_text(), str(path)), None)
    return found


def loaded_modules(name: str) -> list[str]:
    """The project modules that importing ``name`` runs: each package on its dotted path and the
    module itself (``from pkg import obj`` names an object, not a module, and stops at ``pkg``)."""
    parts = name.split(".")
    prefixes = (".".join(parts[:k]) for k in range(1, len(parts) + 1))
    return [prefix for prefix in prefixes if prefix in MODULES]


def ancestors(module: str) -> set[str]:
    """Packages whose ``__init__`` has started before ``module`` runs."""
    parts = module.split(".")
    return {".".join(parts[:k]) for k in range(1, len(parts))}


def import_graph() -> dict[str, set[str]]:
    """Module -> the modules it runs. A module's own packages have started already, so they count
    only when it reads a name from one (``from pkg import obj`` needs pkg's ``__init__`` done)."""
    graph = {}
    for module in MODULES:
        targets = set()
        for name, _ in imports(module):
            loaded = loaded_modules(name)
            targets.update(m for m in loaded if m not in ancestors(module))
            if loaded and loaded[-1] != name:
                targets.add(loaded[-1])
        graph[module] = targets - {module}
    return graph


def shortest_cycle(graph: dict[str, set[str]], start: str) -> list[str] | None:
    """The shortest path start -> ... -> start, by breadth-first search."""
    parent: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for target in sorted(graph[node]):
            if target == start:
                path = [start]
                while node != start:
                    path.append(node)
                    node = parent[node]
                return [start, *reversed(path[1:]), start]
            if target not in parent:
                parent[target] = node
                queue.append(target)
    return None


def cycles(graph: dict[str, set[str]]) -> set[str]:
    found = set()
    for module in graph:
        cycle = shortest_cycle(graph, module)
        if cycle:
            first = cycle.index(min(cycle[:-1]))  # the same cycle found from each member reads the same
            found.add(" -> ".join(cycle[first:-1] + cycle[:first + 1]))
    return found


def local_imports() -> set[str]:
    """Function-local imports of the project's own modules, as "file:function: module"."""
    offenders = set()
    for module, path in MODULES.items():
        for name, function in imports(module):
            loaded = loaded_modules(name)
            if function and loaded:
                offenders.add(f"{path.relative_to(ROOT).as_posix()}:{function}: {loaded[-1]}")
    return offenders


def test_no_import_cycles():
    found = cycles(import_graph())
    assert not found, "import cycles:\n" + "\n".join(sorted(found))


def test_project_imports_are_at_top_of_file():
    offenders = local_imports()
    unexpected = offenders - ALLOWED.keys()
    assert not unexpected, "function-local imports of project modules:\n" + "\n".join(sorted(unexpected))
    stale = ALLOWED.keys() - offenders
    assert not stale, "entries no longer needed:\n" + "\n".join(sorted(stale))


def test_only_astparse_calls_ast_parse():
    """``ast.parse`` is not safe across threads on CPython 3.11: the project's modules parse through
    ``executor.astparse`` (which also has ``literal_eval`` for strings)."""
    callers = [f"{path.relative_to(ROOT)}:{node.lineno}" for name, path in module_files().items()
               if name != "executor.astparse" for node in ast.walk(ast.parse(path.read_text()))
               if isinstance(node, ast.Attribute) and node.attr == "parse"
               and isinstance(node.value, ast.Name) and node.value.id == "ast"]
    assert not callers
