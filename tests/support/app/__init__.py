"""The fixture app: a route module, a migration and rows of its own, for the tests of the machinery.

The template's tests drive the handler, `@transaction` and the local server through this app, never
through the project's own routes, so they pass whatever src/ holds: the sample kept, changed or
deleted, and db/seed.sql emptied. In-process, `handler` serves it; `write_src` writes it out as a
project's src/ folder (the machinery copied from src/, the fixture's own files beside it) for a
server started with LOCAL_SRC_DIR.
"""

from __future__ import annotations

import functools
import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from local.database import apply_migrations, apply_seed

APP_DIR = Path(__file__).resolve().parent
ROOT = APP_DIR.parents[2]
MIGRATIONS_DIR = APP_DIR / "migrations"
SEED_FILE = APP_DIR / "seed.sql"
MODULES = ("lambda_function.py", "fixture_widgets.py")
# Background work (a queue, its consumer, a job): written into a src/ folder only by the tests that want it.
BACKGROUND = APP_DIR / "fixture_background.py"
# What the fixture app's seed holds: ids 1 to 5 in a fresh table, and the first row as written.
SEEDED_IDS = (1, 2, 3, 4, 5)
FIRST_ROW = {"widgetId": 1, "widgetUuid": "5e1d0c2a-1b3c-4d5e-8f60-7a8b9c0d0001", "name": "Sprocket", "maker": "Acme"}
# The project's own files in src/; everything else there is the machinery every app runs with.
_PROJECT_FILES = ("schema.graphql", "migrations")
# What run_local.py needs of a project besides src/ and db/.
_PROJECT_PARTS = ("run_local.py", "cdk.json", "local", "infra")


def prepare_database(url: str) -> list[str]:
    """Create the fixture's table (its migrations, recorded under their own names) and insert its rows."""
    applied = apply_migrations(url, MIGRATIONS_DIR)
    apply_seed(url, SEED_FILE)
    return applied


@functools.cache
def module() -> ModuleType:
    """The fixture app's lambda_function, imported in this process under a name of its own."""
    if str(APP_DIR) not in sys.path:
        sys.path.append(str(APP_DIR))  # after src/: `import fixture_widgets` finds the fixture's module
    spec = importlib.util.spec_from_file_location("fixture_lambda_function", APP_DIR / "lambda_function.py")
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = loaded
    spec.loader.exec_module(loaded)
    return loaded


def handler(event: Any, context: Any = None) -> Any:
    """The fixture app's Lambda handler, in this process."""
    return module().handler(event, context)


def router() -> Any:
    """The fixture app's router (its route table is `router().routes`)."""
    return module().router


def write_project(folder: Path) -> Path:
    """A project at `folder` whose code is the fixture app: run_local.py, local/, infra/, cdk.json, src/ and db/."""
    folder.mkdir(parents=True, exist_ok=True)
    for part in _PROJECT_PARTS:
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, folder / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, folder / part)
    write_src(folder / "src")
    (folder / "db").mkdir(exist_ok=True)
    shutil.copy(SEED_FILE, folder / "db" / "seed.sql")
    return folder


def write_src(folder: Path, *extra_modules: Path, schema_extra: str = "") -> Path:
    """Write the fixture app as a project's src/ at `folder`; `extra_modules` are copied in and included too.

    The machinery (lambdakit, db_utils, the requirements) comes from this checkout's src/, so a server
    started on `folder` runs the code under test; the project's route modules, schema and migrations stay out.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for entry in (ROOT / "src").iterdir():
        if entry.name == "__pycache__" or entry.name in _PROJECT_FILES:
            continue
        if entry.suffix == ".py" and entry.name != "db_utils.py":
            continue  # the project's handler and route modules
        if entry.is_dir():
            shutil.copytree(entry, folder / entry.name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(entry, folder / entry.name)
    for name in MODULES:
        shutil.copy(APP_DIR / name, folder / name)
    shutil.copytree(MIGRATIONS_DIR, folder / "migrations")
    (folder / "schema.graphql").write_text((APP_DIR / "schema.graphql").read_text() + schema_extra)
    handler_file = folder / "lambda_function.py"
    text = handler_file.read_text()
    for path in extra_modules:
        shutil.copy(path, folder / path.name)
        text += f"\nimport {path.stem}  # noqa: E402\n\nrouter.include({path.stem}.router)\n"
    handler_file.write_text(text)
    return folder
