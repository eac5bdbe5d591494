"""The package builder: src/ plus the wheels of src/requirements.txt for Lambda's platform, zipped.

Wheels are fetched for Lambda (manylinux, CPython 3.12), not for this machine, so psycopg2's
binary matches the runtime whatever OS builds it. boto3/botocore are left out: the runtime has them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from infra.config import ROOT, project_config

PLATFORMS = {"x86_64": "manylinux2014_x86_64", "arm64": "manylinux2014_aarch64"}
PYTHON_VERSION = "3.12"
# In the Lambda runtime already; bundling them only adds megabytes and version skew.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath")
SKIP_DIRS = {"__pycache__", "tests", ".pytest_cache", ".ruff_cache"}
# Zip entries get one fixed time so an unchanged build gives a byte-identical zip.
FIXED_TIME = (2000, 1, 1, 0, 0, 0)


def build(
    src: Path = ROOT / "src",
    out: Path = ROOT / ".build",
    arch: str = "x86_64",
    wheel_cache: Path | None = None,
    extras: tuple[str, ...] = (),
) -> Path:
    """Write `out/package/` and `out/lambda.zip`; return the zip's path.

    `extras` names optional requirement files (`src/requirements-<extra>.txt`) to install as well.
    """
    if arch not in PLATFORMS:
        raise ValueError(f"arch must be one of {', '.join(PLATFORMS)}, got {arch!r}")
    package = out / "package"
    _progress(f"[1/3] copying {src.name}/ to {package}")
    shutil.rmtree(package, ignore_errors=True)
    shutil.copytree(src, package, ignore=_ignore)
    _progress(f"[2/3] installing {src.name}/requirements.txt for {PLATFORMS[arch]}, Python {PYTHON_VERSION} (pip)")
    _install_requirements(src / "requirements.txt", package, arch, wheel_cache)
    for extra in extras:
        _progress(f"      and {src.name}/requirements-{extra}.txt")
        _install_requirements(src / f"requirements-{extra}.txt", package, arch, wheel_cache)
    for name in os.listdir(package):
        if name.split("-")[0].lower() in RUNTIME_PROVIDED:
            shutil.rmtree(package / name, ignore_errors=True)
    for cache in list(package.rglob("__pycache__")):
        shutil.rmtree(cache, ignore_errors=True)
    _progress(f"[3/3] zipping to {out / 'lambda.zip'}")
    return _zip(package, out / "lambda.zip")


def _progress(step: str) -> None:
    """One line per long step, so a slow pip download does not look like a hang."""
    print(step, file=sys.stderr, flush=True)


def _ignore(directory: str, names: list[str]) -> set[str]:
    return {n for n in names if n in SKIP_DIRS or n.endswith((".pyc", ".pyo")) or n.startswith("test_")}


def _install_requirements(requirements: Path, target: Path, arch: str, wheel_cache: Path | None) -> None:
    if not requirements.is_file():
        return
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
        "--requirement",
        str(requirements),
        "--target",
        str(target),
        "--platform",
        PLATFORMS[arch],
        "--implementation",
        "cp",
        "--python-version",
        PYTHON_VERSION,
        "--only-binary=:all:",
        "--upgrade",
    ]
    if wheel_cache is not None:
        command += ["--cache-dir", str(wheel_cache)]
    subprocess.run(command, check=True)


def _zip(package: Path, zip_path: Path) -> Path:
    zip_path.unlink(missing_ok=True)
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in sorted(p for p in package.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(str(path.relative_to(package)), FIXED_TIME)
            info.external_attr = (0o755 if os.access(path, os.X_OK) else 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return zip_path


def main(argv: list[str] | None = None) -> int:
    """`make build`: build and print where the zip is and how big."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--arch", default=os.environ.get("ARCHITECTURE", "x86_64"), choices=PLATFORMS)
    parser.add_argument("--src", type=Path, default=ROOT / "src")
    parser.add_argument("--out", type=Path, default=ROOT / ".build")
    args = parser.parse_args(argv)
    try:
        # The stage's `tracing` setting decides whether X-Ray's SDK ships (README, Operate).
        extras = ("tracing",) if project_config(os.environ).tracing else ()
        zip_path = build(args.src, args.out, args.arch, extras=extras)
    except subprocess.CalledProcessError:
        print("error: pip could not fetch the Lambda wheels (is PyPI reachable?)", file=sys.stderr)
        return 1
    size = zip_path.stat().st_size
    shown = zip_path.relative_to(ROOT) if zip_path.is_relative_to(ROOT) else zip_path
    print(f"{shown}: {size / 1_048_576:.1f} MB ({size} bytes, {args.arch})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
