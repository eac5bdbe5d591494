"""The GitHub Actions pipeline: tests on every push, then a deploy per stage through OIDC (actionlint: make lint)."""

from __future__ import annotations

import yaml
from infra_support import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"


def load(name: str) -> dict:
    document = yaml.safe_load((WORKFLOWS / name).read_text())
    document["on"] = document.pop(True, document.get("on"))  # YAML 1.1 reads a bare `on` as true
    return document


def test_every_push_and_pull_request_runs_make_lint_and_make_test():
    ci = load("ci.yml")
    assert {"push", "pull_request"} <= set(ci["on"])
    steps = [step.get("run") for step in ci["jobs"]["test"]["steps"]]
    assert "make lint" in steps and "make test" in steps
    assert ci["permissions"] == {"contents": "read"}


def test_main_deploys_dev_then_prod_each_through_the_reusable_deploy_workflow():
    jobs = load("ci.yml")["jobs"]
    assert jobs["deploy-dev"]["needs"] == "test" and "refs/heads/main" in jobs["deploy-dev"]["if"]
    assert jobs["deploy-prod"]["needs"] == "deploy-dev"
    for stage in ("dev", "prod"):
        job = jobs[f"deploy-{stage}"]
        assert job["uses"] == "./.github/workflows/deploy.yml" and job["with"] == {"stage": stage}
        assert job["permissions"] == {"contents": "read", "id-token": "write"}


def test_a_deploy_runs_in_the_stages_environment_with_an_oidc_role_and_no_stored_keys():
    deploy = load("deploy.yml")
    job = deploy["jobs"]["deploy"]
    assert job["environment"] == "${{ inputs.stage }}"
    assert job["concurrency"]["cancel-in-progress"] is False
    (credentials,) = [
        s for s in job["steps"] if str(s.get("uses", "")).startswith("aws-actions/configure-aws-credentials")
    ]
    assert credentials["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
    assert "aws-access-key-id" not in credentials["with"]
    runs = [s["run"] for s in job["steps"] if "run" in s]
    assert runs == ['make deploy STAGE="$STAGE"', 'make migrate STAGE="$STAGE"']
    assert deploy["permissions"]["id-token"] == "write"
