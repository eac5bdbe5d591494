"""infra/infra.mk: make's command-line settings reach the stack as STACK_*, and a deploy asks the account first."""

from __future__ import annotations

import os
import subprocess

from infra_support import ROOT

SHOW = "show-settings: ; @echo AUTH=$$AUTH STACK_AUTH=$$STACK_AUTH STACK_REGION=$$STACK_REGION"


def make(*arguments: str, env: dict[str, str] | None = None) -> str:
    command = ["make", "--no-print-directory", *arguments]
    environment = {**os.environ, **(env or {})}
    return subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, check=True).stdout


def test_a_setting_on_makes_command_line_reaches_the_stack_with_its_prefix():
    assert make(f"--eval={SHOW}", "show-settings", "AUTH=iam", "REGION=ca-west-1").split() == [
        "AUTH=iam",
        "STACK_AUTH=iam",
        "STACK_REGION=ca-west-1",
    ]


def test_the_functions_own_variables_in_the_shell_never_become_stack_settings():
    shown = make(f"--eval={SHOW}", "show-settings", env={"AUTH": "iam", "REGION": "ca-west-1"})
    assert shown.split() == ["AUTH=iam", "STACK_AUTH=", "STACK_REGION="]


def test_deploy_and_diff_ask_the_account_before_cdk_and_pass_what_it_said():
    for target in ("deploy", "diff"):
        lines = make("-n", target, "STAGE=dev").splitlines()
        preflight = next(i for i, line in enumerate(lines) if "-m infra.preflight deploy" in line)
        cdk = next(i for i, line in enumerate(lines) if f"cdk {target} " in line and "STACK_STAGE=dev" in line)
        assert preflight < cdk and lines[cdk].rstrip().endswith("$context")
