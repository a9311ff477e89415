"""Which package may import which, so the apps never import each other in a cycle.

programs builds on accounts (enrolments belong to members); accounts imports
nothing from programs when it is imported. The API plumbing in stretchhub/api
sits below both apps' APIs and imports neither. A few account operations that
reach into a member's programs import inside the function, at call time.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def import_time_imports(path: Path) -> set[str]:
    """The modules a file imports when it is itself imported."""
    package = list(path.relative_to(ROOT).parent.parts)
    return imports_outside_functions(path.read_text(), package=package)


def imports_outside_functions(source: str, *, package: list[str]) -> set[str]:
    """Every import outside a function body, by full module name.

    Imports under `if`, `try`, `with` and class bodies count (they run at import
    time); relative imports are resolved against `package`.
    """
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                continue
            if isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = package[: len(package) - child.level + 1] if child.level else []
                module = ".".join(base + ([child.module] if child.module else []))
                found.add(module)
                # `from programs import services` imports programs.services too.
                found.update(f"{module}.{alias.name}" for alias in child.names if alias.name != "*")
            visit(child)

    visit(ast.parse(source))
    return found


def _offenders(package: str, forbidden: str) -> dict[str, list[str]]:
    offenders = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        hits = sorted(m for m in import_time_imports(path) if m == forbidden or m.startswith(f"{forbidden}."))
        if hits:
            offenders[str(path.relative_to(ROOT))] = hits
    return offenders


def test_accounts_imports_nothing_from_programs_at_import_time():
    assert _offenders("accounts", "programs") == {}


def test_the_api_plumbing_imports_nothing_from_programs():
    assert _offenders("stretchhub/api", "programs") == {}


def test_the_api_plumbing_imports_no_app_api():
    assert _offenders("stretchhub/api", "accounts.api") == {}


def test_it_sees_programs_importing_accounts():
    # The allowed direction, so the checks above are looking at real imports.
    assert "accounts.models" in import_time_imports(ROOT / "programs/api/views.py")
    assert _offenders("programs", "accounts")


def test_it_resolves_relative_imports():
    imports = import_time_imports(ROOT / "programs/reminders/services.py")
    assert {"programs.reminders.models", "programs.reminders.due"} <= imports


def test_it_leaves_out_imports_made_inside_a_function():
    source = "import os\n\nclass A:\n    import json\n\ndef f():\n    import programs.services\n"
    assert imports_outside_functions(source, package=["accounts"]) == {"os", "json"}


def test_it_counts_imports_under_if_and_try():
    source = """
try:
    from programs import services
except ImportError:
    pass
if True:
    from .. import selectors
"""
    assert imports_outside_functions(source, package=["accounts", "api"]) == {
        "programs",
        "programs.services",
        "accounts",
        "accounts.selectors",
    }
