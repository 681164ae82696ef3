"""The web application's layers: the keys import nothing of agentdesk, nothing imports the factory."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# who may build on the application factory: the runtime component that serves it
FACTORY_USERS = {"agentdesk/component.py"}


def loaded_after_importing(module: str) -> list[str]:
    """The agentdesk modules a fresh interpreter has loaded after importing `module`."""
    code = (
        f"import json, sys, {module}; "
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('agentdesk'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    return list(json.loads(result.stdout))


def test_the_keys_module_imports_nothing_of_agentdesk() -> None:
    assert loaded_after_importing("agentdesk.keys") == ["agentdesk", "agentdesk.keys"]


def imported_names(path: Path) -> set[str]:
    """Every module an import statement of `path` names, at the top or inside a function."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_no_module_imports_the_application_factory_nor_hides_an_import() -> None:
    for path in sorted((REPO / "agentdesk").rglob("*.py")):
        where = str(path.relative_to(REPO))
        names = imported_names(path)
        if where not in FACTORY_USERS and where != "agentdesk/app.py":
            assert "agentdesk.app" not in names, f"{where} imports the application factory"
        assert "importlib" not in names, f"{where} imports by name (importlib)"
