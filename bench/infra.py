"""Package size (`make build`) and synth scale: 300 generated REST routes against the sample's routes."""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, SRC

ROUTES = 300
# The `make synth` command, with its output in a temporary folder so cdk.out/ is left alone.
_SYNTH = ["npx", "--no-install", "cdk", "synth", "--quiet", "--output"]


def package_zip_bytes(arch: str = "x86_64") -> int:
    """Size of the zip `make build ARCH=arch` writes."""
    subprocess.run(["make", "--no-print-directory", "build", f"ARCH={arch}"], cwd=ROOT, check=True, capture_output=True)
    return (ROOT / ".build" / "lambda.zip").stat().st_size


def _route_source(count: int) -> str:
    """A lambda_function.py holding the sample's routes plus generated REST routes, `count` REST routes in all."""
    sample = (SRC / "lambda_function.py").read_text()
    existing = sample.count("@router.rest(")
    lines = [sample.split("\ndef handler(", 1)[0]]
    methods = ("GET", "PUT", "DELETE")
    for i in range(count - existing):
        resource, method = i // len(methods), methods[i % len(methods)]
        lines.append(
            f'\n\n@router.rest("{method}", "/things{resource}/{{thingId}}")\n'
            f"def thing_{i}(thing_id: int) -> dict:\n"
            f'    """Generated route {i}."""\n'
            f'    return {{"thing_id": thing_id}}\n'
        )
    lines.append(
        '\n\ndef handler(event: dict, context: object) -> dict:\n    """Lambda entry point."""\n'
        "    return router.handle(event, context)\n"
    )
    return "".join(lines)


def _synth(src: Path, out: Path) -> float:
    env = {
        **os.environ,
        "STAGE": "dev",
        "ARCHITECTURE": "x86_64",
        "SRC_DIR": str(src),
        "LAMBDA_FILE": str(src / "lambda_function.py"),
        # No prebuilt package: both sides zip their own source folder, so neither pays more for assets.
        "BUILD_DIR": str(src.parent / "no-build"),
        "SYNTH_WITHOUT_BUILD": "1",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    subprocess.run([*_SYNTH, str(out)], cwd=ROOT, env=env, check=True, capture_output=True)
    return time.perf_counter() - start


def _template(out: Path) -> dict:
    return json.loads(next(out.glob("*.template.json")).read_text())


def synth_scale(runs: int) -> dict[str, object]:
    """synth_ratio_300_vs_3, lambda_permissions_300 and resources_300 (medians of `runs` synths each)."""
    base = Path(tempfile.mkdtemp(prefix="bench-synth-"))
    try:
        small, large = base / "sample" / "src", base / "large" / "src"
        for folder in (small, large):
            shutil.copytree(SRC, folder, ignore=shutil.ignore_patterns("__pycache__"))
        (large / "lambda_function.py").write_text(_route_source(ROUTES))
        times: dict[str, list[float]] = {"sample": [], "large": []}
        for _ in range(runs):
            times["sample"].append(_synth(small, base / "out-sample"))
            times["large"].append(_synth(large, base / "out-large"))
        resources = _template(base / "out-large")["Resources"]
        # The routes reach the API as OpenAPI operations; count them to be sure the 300 were scanned.
        bodies = [
            r["Properties"].get("Body") or {} for r in resources.values() if r["Type"] == "AWS::ApiGateway::RestApi"
        ]
        methods = {"get", "put", "post", "delete", "patch", "head", "options"}
        operations = sum(len(methods & set(item)) for body in bodies for item in (body.get("paths") or {}).values())
        sample_routes = (SRC / "lambda_function.py").read_text().count("@router.rest(")
        return {
            "synth_ratio_300_vs_3": statistics.median(times["large"]) / statistics.median(times["sample"]),
            "lambda_permissions_300": sum(r["Type"] == "AWS::Lambda::Permission" for r in resources.values()),
            "resources_300": len(resources),
            "_s": {name: round(statistics.median(values), 1) for name, values in times.items()},
            "_sample_routes": sample_routes,
            "_operations_300": operations,
        }
    finally:
        shutil.rmtree(base, ignore_errors=True)
