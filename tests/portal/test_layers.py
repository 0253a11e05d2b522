"""The direction of the apps (docs/architecture.md, "Apps and the direction of imports"): each
app may use the ones below it and never one above it or beside it, in imports (those inside
functions too), in model relations and in migrations. Lower apps tell upper ones what happened
through signals (``<app>/signals.py``), so no import has to hide inside a function to dodge a
cycle."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.db.migrations.loader import MigrationLoader

ROOT = Path(settings.BASE_DIR)

# Bottom to top. Apps on one line are siblings: neither may use the other.
LAYERS: list[tuple[str, ...]] = [
    ("passcode_portal",),
    ("places",),
    ("trucks",),
    ("checkpoints",),
    ("notifications", "handover"),
    ("demo",),
    ("dashboards",),
]
RANK = {app: rank for rank, layer in enumerate(LAYERS) for app in layer}
# The project's own wiring, which names every app: settings, URLs, the WSGI/ASGI and Celery
# entry points. Nothing imports these modules but Django itself.
WIRING = {
    "passcode_portal.urls",
    "passcode_portal.wsgi",
    "passcode_portal.asgi",
    "passcode_portal.celery",
}
# Imports inside functions, each with the reason it is not at the top of its module.
LATE_IMPORTS = {
    # Chooses the settings module to load; importing both would run both.
    ("passcode_portal.settings", "passcode_portal.settings.production"),
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> Iterator[tuple[str, Path]]:
    for app in RANK:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield module_name(path), path


def imports_of(name: str, path: Path) -> Iterator[tuple[str, int, bool]]:
    """(imported module, line, inside a function) for every import of the project's modules."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    inside: set[int] = set()
    for node in ast.walk(tree):
        # An app's receivers are imported in AppConfig.ready, the one place Django offers once
        # every model is loaded: that import dodges no cycle.
        connects = path.name == "apps.py" and getattr(node, "name", "") == "ready"
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and not connects:
            inside.update(id(n) for n in ast.walk(node) if n is not node)
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            # "from app import module" imports the module; "from module import name" the module.
            targets = [
                f"{base}.{a.name}" if _is_module(f"{base}.{a.name}") else base for a in node.names
            ]
        for target in targets:
            if target.split(".")[0] in RANK:
                yield target, node.lineno, id(node) in inside


def _is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def app_of(module: str) -> str:
    return module.split(".")[0]


def allowed(source: str, target: str) -> bool:
    a, b = app_of(source), app_of(target)
    return a == b or source in WIRING or RANK[b] < RANK[a]


def test_imports_flow_down_only() -> None:
    against = [
        f"{path.relative_to(ROOT)}:{line} imports {target}"
        for name, path in project_modules()
        for target, line, _late in imports_of(name, path)
        if not allowed(name, target)
    ]
    assert against == []


def test_no_import_hides_inside_a_function() -> None:
    late = [
        f"{path.relative_to(ROOT)}:{line} imports {target} inside a function"
        for name, path in project_modules()
        for target, line, is_late in imports_of(name, path)
        if is_late and (name, target) not in LATE_IMPORTS
    ]
    assert late == []


def test_no_two_modules_import_each_other() -> None:
    """No cycle among the project's modules: in the graph of imports, every strongly connected
    component is a single module."""
    graph: dict[str, set[str]] = {}
    for name, path in project_modules():
        graph.setdefault(name, set()).update(
            t
            for t, _line, _late in imports_of(name, path)
            if t != name and not name.startswith(t + ".")
        )
    cycles = [sorted(c) for c in _components(graph) if len(c) > 1]
    assert cycles == []


def _components(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's strongly connected components, iteratively."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    found.append(component)
    return found


def test_model_relations_point_down_only() -> None:
    against = [
        f"{model._meta.label}.{field.name} -> {field.related_model._meta.label}"
        for config in apps.get_app_configs()
        if config.label in RANK
        for model in config.get_models(include_auto_created=True)
        for field in model._meta.get_fields()
        if field.is_relation
        and not field.auto_created
        and field.related_model is not None
        and field.related_model._meta.app_label in RANK
        and not allowed(model._meta.app_label, field.related_model._meta.app_label)
    ]
    assert against == []


def test_migrations_depend_down_only() -> None:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    against = [
        f"{app}.{name} depends on {dep_app}.{dep_name}"
        for (app, name), migration in loader.disk_migrations.items()
        if app in RANK
        for dep_app, dep_name in migration.dependencies
        if dep_app in RANK and not allowed(app, dep_app)
    ]
    assert against == []


@pytest.mark.parametrize(
    ("source", "target", "expected"),
    [
        ("trucks.services", "places.models", True),
        ("places.models", "trucks.models", False),
        ("notifications.sending", "handover.events", False),
        ("handover.events", "checkpoints.models", True),
        ("checkpoints.views", "passcode_portal.errors", True),
        ("passcode_portal.api", "trucks.models", False),
    ],
)
def test_the_rule_itself(source: str, target: str, expected: bool) -> None:
    """The check refuses what it should: a rule that allowed everything would pass above."""
    assert allowed(source, target) is expected


def test_every_app_has_a_layer() -> None:
    project_apps = {p.parent.name for p in ROOT.glob("*/apps.py")}
    assert project_apps == set(RANK)
    assert [a for a in settings.INSTALLED_APPS if a in RANK] == [
        a for layer in LAYERS for a in layer
    ]
