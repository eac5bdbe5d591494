"""The files Copier renders per project: derived from the template's own working files, changed only
where an answer says so."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
from copier import run_copy

ROOT = Path(__file__).resolve().parents[2]
# The answers this repository itself stands for: rendering with them must give back its own files.
OWN_ANSWERS = {"project_name": "students-api", "aws_region": "", "auth": "cognito", "keep_sample": True}


def generate(where: Path, **answers: object) -> Path:
    """`copier copy` of the working tree (uncommitted edits included) with these answers, the rest default."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the working tree is dirty on purpose while it is being edited
        run_copy(str(ROOT), str(where), data=answers, defaults=True, quiet=True, vcs_ref="HEAD")
    return where


@pytest.fixture(scope="module")
def own(tmp_path_factory) -> Path:
    return generate(tmp_path_factory.mktemp("own") / "project", **OWN_ANSWERS)


@pytest.mark.parametrize(
    "name", ["src/lambda_function.py", "src/schema.graphql", "db/seed.sql", "Makefile", "src/db_utils.py"]
)
def test_with_this_repository_s_own_answers_a_project_file_is_the_template_s_file(own, name):
    assert (own / name).read_bytes() == (ROOT / name).read_bytes()


def test_with_this_repository_s_own_answers_cdk_json_holds_the_same_settings(own):
    assert json.loads((own / "cdk.json").read_text()) == json.loads((ROOT / "cdk.json").read_text())


def test_the_answers_set_the_service_region_and_auth_and_jwt_brings_an_http_api(tmp_path):
    project = generate(
        tmp_path / "p",
        project_name="orders",
        aws_region="eu-west-1",
        auth="jwt",
        jwt_issuer="https://issuer.example",
        jwt_audience="client-1",
    )
    context = json.loads((project / "cdk.json").read_text())["context"]
    template = json.loads((ROOT / "cdk.json").read_text())["context"]
    chosen = {"serviceName", "region", "auth", "apiType", "jwtIssuer", "jwtAudience"}
    assert {key: context[key] for key in chosen} == {
        "serviceName": "orders",
        "region": "eu-west-1",
        "auth": "jwt",
        "apiType": "http",
        "jwtIssuer": "https://issuer.example",
        "jwtAudience": "client-1",
    }
    unchanged = {k: v for k, v in template.items() if k not in chosen}
    assert {k: v for k, v in context.items() if k not in chosen} == unchanged
    assert list(context)[:2] == ["serviceName", "region"]


def test_without_the_sample_no_user_file_names_it_and_the_handler_still_includes_the_migrate_route(tmp_path):
    project = generate(tmp_path / "p", project_name="empty", keep_sample=False)
    # The user's side of a project (the machinery's own docstrings may use the sample as an example).
    user_files = [
        *(p for p in (project / "src").iterdir() if p.is_file() and p.name != "db_utils.py"),
        *(project / "src" / "migrations").iterdir(),
        *(project / "events").iterdir(),
        *(project / "db").iterdir(),
    ]
    naming = [str(p.relative_to(project)) for p in user_files if "student" in p.read_text(errors="replace").lower()]
    assert naming == []
    handler = (project / "src" / "lambda_function.py").read_text()
    compile(handler, "lambda_function.py", "exec")
    assert "router.include(db_utils.maintenance)" in handler
    assert "make route NAME=courses" in handler


def test_a_project_leaves_the_template_s_own_evidence_behind(own):
    shipped = {str(p.relative_to(own)) for p in own.rglob("*") if p.is_file()}
    assert ".copier-answers.yml" in shipped and "tests/conftest.py" in shipped
    left_behind = ("copier.yml", "bench/", ".ci/", "mk/bench.mk", "mk/faults.mk", "mk/pgbouncer.mk", "mk/template.mk")
    assert not [p for p in shipped if p.startswith(left_behind)]
    evidence = ("unit", "integration", "local", "faults", "badinput", "fuzz", "infrastructure", "bench", "template")
    assert not [p for p in shipped if p.split("/")[:2] in [["tests", suite] for suite in evidence]]
    assert not [p for p in shipped if p.endswith(".jinja") or "{{" in p]
