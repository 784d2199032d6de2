"""The import rules of ARCHITECTURE section 3, checked on the source."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ORDER = ["ledger", "wallet", "merchant", "admin"]  # each may import only those before it
PLATFORM = {
    "money",
    "accounts",
    "receipts",
    "ledger_api",
    "appkeys",
    "spreadsheet",
    "config",
    "db",
    "auth",
    "i18n",
    "security",
    "errors",
    "passwords",
    "keys",
    "audit",
    "api",
    "time",
    "sepatext",
    "inputs",
    "openapi",
    "iban",
    "emails",
    "outbox",
    "notices",
    "mailer",
    "notify_views",
    "worker",
    "pinmac",
    "logins",
    "staff_pages",
}
PURE_LEDGER = {
    "encoding",
    "verify",
    "merkle",
    "checkpoint",
    "errors",
    "export",
    "strict",
    "fastcheck",
    "treecheck",
    "witness",
}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def package_files(package: str) -> list[Path]:
    return [p for p in (ROOT / package).rglob("*.py") if "migrations" not in p.parts]


@pytest.mark.parametrize("package", ORDER)
def test_actor_packages_only_import_downwards(package: str) -> None:
    forbidden = set(ORDER[ORDER.index(package) + 1 :])
    for path in package_files(package):
        for name in imports_of(path):
            top = name.split(".")[0]
            assert top not in forbidden, f"{path.relative_to(ROOT)} imports {name}"
            if package != "ledger" and name.startswith("kindpakket."):
                module = name.split(".")[1]
                assert module in PLATFORM, f"{path.relative_to(ROOT)} imports the factory ({name})"


def test_only_the_tests_import_the_tests() -> None:
    """The installed packages and the benchmarks make their data with kindpakket.seeding."""
    for package in ("kindpakket", *ORDER, "bench"):
        for path in package_files(package):
            for name in imports_of(path):
                assert name.split(".")[0] != "tests", f"{path.relative_to(ROOT)} imports {name}"


def test_ledger_knows_nothing_of_flask_or_the_shell() -> None:
    for path in package_files("ledger"):
        for name in imports_of(path):
            top = name.split(".")[0]
            assert top not in {"flask", "kindpakket", "flask_smorest"}, f"{path.name}: {name}"


def test_pure_ledger_imports_neither_flask_nor_sqlalchemy() -> None:
    for module in PURE_LEDGER:
        for name in imports_of(ROOT / "ledger" / f"{module}.py"):
            assert name.split(".")[0] not in {"flask", "sqlalchemy"}, f"ledger/{module}.py: {name}"


def test_platform_modules_never_import_actor_packages() -> None:
    for module in PLATFORM:
        path = ROOT / "kindpakket" / f"{module}.py"
        for name in imports_of(path):
            assert name.split(".")[0] not in {"wallet", "merchant", "admin"}, f"{module}: {name}"


ADMIN_SHARED = {
    "__init__",
    "api",
    "auth",
    "cli",
    "cli_text",
    "forms",
    "menu",
    "models",
    "parties",
    "statuses",
}
ADMIN_ROOMS = {"funds", "passes", "settlement", "reports", "shops", "audit", "notifications"}


def test_admin_keeps_its_use_cases_in_rooms() -> None:
    """Only shared modules and the blueprint registry sit at admin's top; each room has its
    pages (views.py) and their forms (forms.py), and no view module defines a form."""
    top = {p.stem for p in (ROOT / "admin").glob("*.py")}
    assert top - ADMIN_SHARED == {"views", "views_more"}
    for room in ADMIN_ROOMS:
        assert (ROOT / "admin" / room / "views.py").is_file(), room
        assert (ROOT / "admin" / room / "forms.py").is_file(), room
    for path in (ROOT / "admin").rglob("views*.py"):
        tree = ast.parse(path.read_text())
        forms = [
            n.name
            for n in tree.body
            if isinstance(n, ast.ClassDef)
            and any(isinstance(b, ast.Name) and b.id == "FlaskForm" for b in n.bases)
        ]
        assert not forms, f"{path.relative_to(ROOT)} defines {forms}; they belong in forms.py"
