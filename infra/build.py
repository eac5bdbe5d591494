"""The package builder: src/ plus the wheels of src/requirements.txt for Lambda's platform, compiled, zipped.

Wheels are fetched for Lambda (manylinux, CPython 3.12, x86_64 or arm64), not for this machine, so
psycopg2's binary matches the runtime whatever OS builds it. boto3/botocore are left out: the runtime
has them. The modules a cold start imports ship as CPython 3.12 bytecode, so Lambda compiles nothing:
src/ keeps its sources beside unchecked-hash .pyc files (tracebacks show your lines), the third-party
modules it imports ship as bytecode only (the zip budget has no room for both). A stamp records what
was built from what, so a synth can tell a package that matches src/ and the architecture from a
stale one.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from infra.config import ROOT, project_config

# Lambda's python3.12 runs on Amazon Linux 2023 (glibc 2.34): any of these wheels runs there.
# psycopg2-binary publishes its arm64 wheels as manylinux_2_28 only.
PLATFORMS = {
    arch: [f"manylinux2014_{machine}", f"manylinux_2_28_{machine}", f"manylinux_2_34_{machine}"]
    for arch, machine in (("x86_64", "x86_64"), ("arm64", "aarch64"))
}
PYTHON_VERSION = "3.12"
# Bump when the build's output changes for the same inputs, so older packages count as stale.
BUILD_FORMAT = 2
# In the Lambda runtime already; bundling them only adds megabytes and version skew.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath")
# Static files only Powertools' own REST resolver serves (enable_swagger); this template's router never
# does, and /docs exists on the local server only, serving Swagger UI from a dev package. 450 KB of the zip.
PRUNED = (
    "aws_lambda_powertools/event_handler/openapi/swagger_ui/swagger-ui-bundle.min.js",
    "aws_lambda_powertools/event_handler/openapi/swagger_ui/swagger-ui.min.css",
)
SKIP_DIRS = {"__pycache__", "tests", ".pytest_cache", ".ruff_cache"}
STAMP = "stamp.json"
# Zip entries get one fixed time so an unchanged build gives a byte-identical zip.
FIXED_TIME = (2000, 1, 1, 0, 0, 0)


class BuildError(Exception):
    """The package could not be built; the message says why in the user's terms."""


class StalePackage(Exception):
    """The built package does not match src/ or the architecture being synthesized."""


def build(
    src: Path = ROOT / "src",
    out: Path = ROOT / ".build",
    arch: str = "x86_64",
    wheel_cache: Path | None = None,
    extras: tuple[str, ...] = (),
) -> Path:
    """Write `out/package/`, `out/lambda.zip` and `out/stamp.json`; return the zip's path.

    `extras` names optional requirement files (`src/requirements-<extra>.txt`) to install as well.
    """
    if arch not in PLATFORMS:
        raise ValueError(f"arch must be one of {', '.join(PLATFORMS)}, got {arch!r}")
    package = out / "package"
    out.mkdir(parents=True, exist_ok=True)
    # A failed build must never pass for a good one: the stamp goes first and comes back last.
    (out / STAMP).unlink(missing_ok=True)
    _progress(f"[1/4] copying {src.name}/ to {package}")
    shutil.rmtree(package, ignore_errors=True)
    shutil.copytree(src, package, ignore=_ignore)
    _progress(f"[2/4] installing {src.name}/requirements.txt for {arch} (CPython {PYTHON_VERSION}, manylinux) with pip")
    _install_requirements(src / "requirements.txt", package, arch, wheel_cache)
    for extra in extras:
        _progress(f"      and {src.name}/requirements-{extra}.txt")
        _install_requirements(src / f"requirements-{extra}.txt", package, arch, wheel_cache)
    for name in os.listdir(package):
        if name.split("-")[0].lower() in RUNTIME_PROVIDED:
            shutil.rmtree(package / name, ignore_errors=True)
    for relative in PRUNED:
        (package / relative).unlink(missing_ok=True)
    for cache in list(package.rglob("__pycache__")):
        shutil.rmtree(cache, ignore_errors=True)
    _progress(f"[3/4] compiling to CPython {PYTHON_VERSION} bytecode")
    compiled = _compile(src, package)
    _progress(f"[4/4] zipping to {out / 'lambda.zip'}")
    zip_path = _zip(package, out / "lambda.zip")
    stamp = {
        "arch": arch,
        "source": source_hash(src),
        "extras": sorted(extras),
        "python": PYTHON_VERSION,
        "bytecode": compiled,
    }
    (out / STAMP).write_text(json.dumps(stamp, indent=2) + "\n")
    return zip_path


def _progress(step: str) -> None:
    """One line per long step, so a slow pip download does not look like a hang."""
    print(step, file=sys.stderr, flush=True)


def _ignore(directory: str, names: list[str]) -> set[str]:
    return {n for n in names if n in SKIP_DIRS or n.endswith((".pyc", ".pyo")) or n.startswith("test_")}


def _source_files(src: Path) -> list[Path]:
    """The files the build copies from src/, in a stable order."""
    found = []
    for directory, dirs, files in os.walk(src):
        dirs[:] = sorted(d for d in dirs if d not in _ignore(directory, dirs))
        found += [Path(directory, f) for f in sorted(files) if f not in _ignore(directory, files)]
    return found


def source_hash(src: Path) -> str:
    """What a package is built from: every copied file of src/ (requirements.txt included) and the build format."""
    digest = hashlib.sha256(f"format {BUILD_FORMAT}\n".encode())
    for path in _source_files(src):
        digest.update(f"{path.relative_to(src).as_posix()}\n".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def stale_reason(package: Path, src: Path, arch: str, extras: tuple[str, ...] = ()) -> str | None:
    """None when `package` was built from `src` as it is now, for `arch` and with `extras`; else why it cannot be."""
    stamp_path = Path(package).parent / STAMP
    if not (Path(package) / "lambda_function.py").is_file():
        return f"{package} holds no build"
    if not stamp_path.is_file():
        return f"{package} has no build stamp (an interrupted or failed build, or one from an older template)"
    stamp = json.loads(stamp_path.read_text())
    if stamp.get("arch") != arch:
        return f"{package} was built for {stamp.get('arch')}, this synth is for {arch}"
    if stamp.get("source") != source_hash(src):
        return f"{src} changed since {package} was built"
    if stamp.get("extras", []) != sorted(extras):
        built, wanted = ", ".join(stamp.get("extras", [])) or "none", ", ".join(extras) or "none"
        return f"{package} was built with extras: {built}; this synth needs: {wanted}"
    return None


def _install_requirements(requirements: Path, target: Path, arch: str, wheel_cache: Path | None) -> None:
    if not requirements.is_file():
        return
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile"]
    command += ["--requirement", str(requirements), "--target", str(target)]
    for platform in PLATFORMS[arch]:
        command += ["--platform", platform]
    command += ["--implementation", "cp", "--python-version", PYTHON_VERSION, "--only-binary=:all:", "--upgrade"]
    if wheel_cache is not None:
        command += ["--cache-dir", str(wheel_cache)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode == 0:
        return
    sys.stderr.write(result.stderr)
    if "No matching distribution found" in result.stderr or "Could not find a version" in result.stderr:
        raise BuildError(
            f"a requirement has no wheel for Lambda's {arch} platform ({', '.join(PLATFORMS[arch])},"
            f" CPython {PYTHON_VERSION}); pip's message above names it. Pin a version that publishes one."
        )
    raise BuildError(f"pip could not install {requirements} for Lambda (its message is above)")


def _python312() -> str | None:
    """An interpreter that writes CPython 3.12 bytecode: this one, or the one mk/find-python finds."""
    if sys.version_info[:2] == (3, 12):
        return sys.executable
    found = subprocess.run([str(ROOT / "mk" / "find-python")], capture_output=True, text=True, check=False)
    candidate = found.stdout.strip()
    if found.returncode != 0 or not candidate:
        return None
    probe = "import sys; print(sys.version_info[:2] == (3, 12))"
    version = subprocess.run([candidate, "-c", probe], check=False, **_QUIET)
    return candidate if version.stdout.strip() == "True" else None


_QUIET = {"capture_output": True, "text": True}


def _imported_modules(src: Path, package: Path) -> set[Path]:
    """The package's third-party .py files that src/ imports, at module level or in a function, with what they import.

    Found by importing exactly those modules in a fresh interpreter (this one's packages, the same pinned
    versions), never your modules: a build does not run your code. Module names are the same on every
    architecture, so an arm64 build is traced on an x86_64 machine.
    """
    names = set()
    for path in src.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_bytes(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
    ours = {p.stem for p in src.glob("*.py")} | {p.name for p in src.iterdir() if p.is_dir()}
    shipped = {p.name for p in package.iterdir() if p.is_dir()} | {p.stem for p in package.glob("*.py")}
    third_party = sorted(n for n in names if n.split(".")[0] in shipped - ours)
    trace = (
        "import importlib, json, sys\n"
        "for name in sys.argv[1:]:\n"
        "    try: importlib.import_module(name)\n"
        "    except Exception: pass\n"
        "print(json.dumps([getattr(m, '__file__', None) for m in list(sys.modules.values())]))\n"
    )
    env = {**os.environ, "POWERTOOLS_SERVICE_NAME": "build", "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run([sys.executable, "-c", trace, *third_party], env=env, check=False, **_QUIET)
    if result.returncode != 0:
        return set()
    roots = sorted({Path(p).resolve() for p in sys.path if p and Path(p).is_dir()}, key=lambda p: -len(str(p)))
    files = set()
    for name in json.loads(result.stdout):
        if not name or not name.endswith(".py"):
            continue
        path = Path(name).resolve()
        root = next((r for r in roots if path.is_relative_to(r)), None)
        if root is not None and (package / path.relative_to(root)).is_file():
            files.add(package / path.relative_to(root))
    return files


def _compile(src: Path, package: Path) -> bool:
    """Compile src/'s modules (sources kept) and the imported third-party ones (bytecode only); True when done."""
    python = _python312()
    if python is None:
        _progress(f"      no Python {PYTHON_VERSION} on this machine: the package ships without bytecode")
        return False
    ours = [package / p.relative_to(src) for p in src.rglob("*.py") if (package / p.relative_to(src)).is_file()]
    theirs = sorted(_imported_modules(src, package))
    # Unchecked hash: Lambda's code is immutable, so the runtime need not even look at the source's mtime.
    mode = ["-q", "--invalidation-mode", "unchecked-hash"]
    for files, legacy in ((ours, []), (theirs, ["-b"])):
        if not files:
            continue
        listing = package.parent / "compile-list.txt"
        listing.write_text("".join(f"{f}\n" for f in files))
        subprocess.run([python, "-m", "compileall", *mode, *legacy, "-i", str(listing)], check=True)
        listing.unlink()
    for path in theirs:
        path.unlink()  # `-b` wrote module.pyc beside it; alone it is imported as a sourceless module
    return True


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
    """`make build`: build (or, with --if-stale, only when src/ or the architecture changed) and print the zip."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--arch", default=os.environ.get("ARCHITECTURE", "x86_64"), choices=PLATFORMS)
    parser.add_argument("--src", type=Path, default=ROOT / "src")
    parser.add_argument("--out", type=Path, default=ROOT / ".build")
    parser.add_argument("--if-stale", action="store_true", help="do nothing when the package matches src/ and arch")
    args = parser.parse_args(argv)
    # The stage's `tracing` setting decides whether X-Ray's SDK ships (docs/operate.md).
    extras = ("tracing",) if project_config(os.environ).tracing else ()
    zip_path = args.out / "lambda.zip"
    fresh = stale_reason(args.out / "package", args.src, args.arch, extras) is None
    if args.if_stale and fresh and zip_path.is_file():
        print(f"{_shown(zip_path)}: up to date ({args.arch}, {args.src.name}/ unchanged)")
        return 0
    try:
        zip_path = build(args.src, args.out, args.arch, extras=extras)
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    size = zip_path.stat().st_size
    print(f"{_shown(zip_path)}: {size / 1_048_576:.1f} MB ({size} bytes, {args.arch})")
    return 0


def _shown(path: Path) -> Path:
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


if __name__ == "__main__":
    sys.exit(main())
