"""The `tracing` setting: the function gets TRACING=true and the package X-Ray's SDK; off, neither."""

from __future__ import annotations

from pathlib import Path

from infra import build as build_module
from infra.config import project_config


def test_tracing_is_off_unless_the_stage_turns_it_on():
    assert project_config({}).tracing is False
    assert project_config({"STACK_TRACING": "true", "STACK_STAGE": "prod"}).tracing is True


def test_the_build_installs_the_tracing_requirements_only_when_asked(tmp_path, monkeypatch):
    installed: list[str] = []
    monkeypatch.setattr(build_module, "_install_requirements", lambda path, *args: installed.append(Path(path).name))
    src = tmp_path / "src"
    src.mkdir()
    (src / "lambda_function.py").write_text("def handler(event, context):\n    return event\n")
    build_module.build(src, tmp_path / "plain")
    build_module.build(src, tmp_path / "traced", extras=("tracing",))
    assert installed == ["requirements.txt", "requirements.txt", "requirements-tracing.txt"]


def test_the_tracing_requirements_name_the_sdk_powertools_tracer_needs():
    root = Path(__file__).resolve().parents[2]
    assert "aws-xray-sdk" in (root / "src" / "requirements-tracing.txt").read_text()
    assert "aws-xray-sdk" not in (root / "src" / "requirements.txt").read_text()
