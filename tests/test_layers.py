"""The packages depend one way: the domain package ``activespec`` never imports the TFX
packages or the application package ``activespec_cli`` that are built on it."""

from __future__ import annotations

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]
#: Packages built on ``activespec``; it imports none of them, not even inside a function.
UPPER = {"activespec_cli", "pipeline", "components", "models", "kubeflow", "bench"}


def _imported_packages(path: pathlib.Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_the_domain_package_never_imports_the_packages_built_on_it():
    upward = {
        str(path.relative_to(ROOT)): sorted(_imported_packages(path) & UPPER)
        for path in sorted((ROOT / "activespec").rglob("*.py"))
        # ``python -m activespec`` starts the application; no module imports it.
        if path.name != "__main__.py"
    }
    assert {path: names for path, names in upward.items() if names} == {}
