"""The settings matrix (matrix.py): every pair of documented values synthesizes a stack that passes the deploy
check, cdk-nag, cfn-lint and checkov.

All stacks are built in one CDK app, so one jsii process and one cdk-nag pass serve them all; cfn-lint runs
once per region and checkov once for every template. checkov lives in its own virtualenv (.venv/checkov):
its pins (boto3, packaging, networkx) clash with the test tools'.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from infra_support import BACKGROUND_SOURCE, ROOT, project_context, write_module
from matrix import FACTORS, context, covering_rows, pairs, valid, wanted_pairs

from infra.config import ConfigError, load_config

CHECKOV_VENV = ROOT / ".venv" / "checkov"
CHECKOV_REQUIREMENTS = Path(__file__).with_name("requirements-checkov.txt")


class Matrix:
    """The synthesized matrix: each row with its config, template path and deploy-check findings."""

    def __init__(self, outdir: Path) -> None:
        self.outdir = outdir
        self.stacks: list[dict[str, Any]] = []


@pytest.fixture(scope="module")
def matrix(tmp_path_factory) -> Matrix:
    import aws_cdk as cdk

    from infra.deploy_check import check_template
    from infra.nag import add_checks
    from infra.routes import scan_routes
    from infra.stack import ApiStack

    directory = tmp_path_factory.mktemp("matrix")
    src = write_module(directory).parent
    base = project_context(src)
    result = Matrix(directory / "cdk.out")
    app = cdk.App(context=base, outdir=str(result.outdir))
    # The same stacks, with or without background work: the routes of the row's variant.
    background = write_module(directory / "background", routes=BACKGROUND_SOURCE)
    routes = {False: scan_routes(src / "lambda_function.py"), True: scan_routes(background)}
    built = []
    for number, row in enumerate(covering_rows(), start=1):
        config = load_config({**base, **context(row, f"matrix{number:02d}")}.get, {})
        built.append((row, config, ApiStack(app, config.stack_name, config=config, routes=routes[row["background"]])))
    add_checks(app)
    assembly = app.synth()
    for row, config, stack in built:
        template = assembly.get_stack_by_name(stack.stack_name).template
        result.stacks.append(
            {
                "row": row,
                "name": stack.stack_name,
                "region": config.region,
                "template": template,
                "path": result.outdir / f"{stack.stack_name}.template.json",
                "findings": check_template(template, config),
            }
        )
    return result


def test_the_matrix_holds_every_valid_pair_of_documented_values_and_no_invalid_combination():
    rows = covering_rows()
    assert wanted_pairs() <= {pair for row in rows for pair in pairs(row)}
    assert all(valid(row) for row in rows)
    assert {value for row in rows for value in [row["region"]]} == set(FACTORS["region"])
    assert len(rows) <= 20, "a covering set this large means a factor grew: check the matrix's time in CI"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"auth": "jwt", "apiType": "rest"}, "auth=jwt needs apiType=http"),
        ({"corsOrigins": "several", "apiType": "rest"}, "corsOrigins: a REST API answers preflight with one origin"),
    ],
)
def test_the_combinations_left_out_of_the_matrix_are_refused_at_synth(row, message, tmp_path):
    full = {**dict.fromkeys(FACTORS), **{k: v[0] for k, v in FACTORS.items()}, **row}
    assert not valid(full)
    src = write_module(tmp_path).parent
    with pytest.raises(ConfigError, match=message):
        load_config({**project_context(src), **context(full, "refused")}.get, {})


def test_every_stack_of_the_matrix_passes_the_deploy_check(matrix):
    assert {s["name"]: [str(f) for f in s["findings"]] for s in matrix.stacks if s["findings"]} == {}


def test_every_stack_of_the_matrix_passes_cdk_nag_with_a_reason_for_each_acknowledgment(matrix):
    reports = json.loads((matrix.outdir / "validation-report.json").read_text())["pluginReports"]
    assert all(r["conclusion"] == "success" for r in reports), reports
    assert [v for r in reports for v in r["violations"] if "AwsSolutions" in v["ruleName"]] == []
    for stack in matrix.stacks:
        for resource in stack["template"]["Resources"].values():
            for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", []):
                assert len(rule["reason"].split()) >= 10, (stack["name"], rule)


def test_every_stack_of_the_matrix_passes_cfn_lint_for_its_region(matrix):
    by_region = defaultdict(list)
    for stack in matrix.stacks:
        by_region[stack["region"]].append(str(stack["path"]))
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    errors = []
    for region, paths in by_region.items():
        command = [str(cfn_lint), "--regions", region, "--format", "parseable", "--", *paths]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        # Exit codes are flags (2 errors, 4 warnings, 8 informational); anything else means it did not run.
        assert result.returncode in range(0, 16, 2), result.stderr[-2000:]
        errors += [line for line in result.stdout.splitlines() if line.split(":")[5].startswith("E")]
    assert errors == []


def checkov() -> Path:
    """checkov's console script, installed into its own virtualenv on first use."""
    script = CHECKOV_VENV / "bin" / "checkov"
    stamp = CHECKOV_VENV / ".installed"
    wanted = CHECKOV_REQUIREMENTS.read_text()
    if not (script.exists() and stamp.exists() and stamp.read_text() == wanted):
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(CHECKOV_VENV)], check=True)
        pip = [str(CHECKOV_VENV / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        subprocess.run([*pip, "-r", str(CHECKOV_REQUIREMENTS)], check=True)
        stamp.write_text(wanted)
    return script


def checkov_results(paths: list[Path]) -> list[dict[str, Any]]:
    """checkov's CloudFormation results for the templates (failed, passed and skipped checks of each)."""
    files = [argument for path in paths for argument in ("-f", str(path))]
    command = [str(checkov()), *files, "--framework", "cloudformation", "--compact", "-o", "json"]
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"}
    result = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    assert result.returncode in (0, 1), result.stderr[-2000:]  # 1: some check failed
    report = json.loads(result.stdout)
    return report if isinstance(report, list) else [report]


@pytest.mark.slow
def test_every_stack_of_the_matrix_passes_checkov_with_a_reason_for_each_skipped_check(matrix):
    (report,) = checkov_results([s["path"] for s in matrix.stacks])
    failed = [
        f"{c['check_id']} {c['resource']} ({Path(c['file_path']).name})" for c in report["results"]["failed_checks"]
    ]
    assert failed == []
    for skipped in report["results"]["skipped_checks"]:
        assert len(skipped["check_result"].get("suppress_comment", "").split()) >= 8, skipped
    print(f"checkov on {len(matrix.stacks)} templates: {report['summary']}")
