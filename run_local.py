"""Run the Lambda on this machine, against a real PostgreSQL (DATABASE_URL, or an embedded one).

    python run_local.py EVENT_NAME            run events/EVENT_NAME.json through the handler
    python run_local.py --job NAME            run the scheduled job NAME once, as its schedule would
    python run_local.py serve [--port 3000]   serve the API on 127.0.0.1 like API Gateway (reloads on edits),
                                              consume the queues and run the jobs (--no-schedules: no jobs)
    python run_local.py db-init               apply schema and seed, print the database URL
    python run_local.py db-reset              drop everything, then migrations and seed again
    python run_local.py psql [-- psql args]   psql on the local database (or its URL without psql)
    python run_local.py openapi [--out FILE]  write the REST routes' OpenAPI document (default .build/openapi.json)
    python run_local.py token --user alice [--groups staff,admin] [--scopes s] [--ttl 3600]
                                              print a bearer token the local server accepts (local only)
    python run_local.py credentials           print the local IAM credentials (AUTH=iam) as shell exports
    python run_local.py events                list the named events

A plain script on purpose: run it from an IDE with a breakpoint in a route function.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
EVENTS_DIR = ROOT / "events"
sys.path.insert(0, str(ROOT / "src"))


def _use_database() -> str:
    """Start (or find) the database, apply pending migrations and the seed; exit with the reason when one fails."""
    from local.database import load_migrator, prepare_database
    from local.embedded_pg import PortInUse
    from local.server import use_function_environment

    use_function_environment()  # before the first log line: the service name, no metric lines
    try:
        url = prepare_database()
    except load_migrator().MigrationFailed as exc:
        sys.exit(f"error: {exc.message}\nfix the file (or add a new one) and run the command again")
    except PortInUse as exc:
        sys.exit(f"error: {exc}\nuse another port for this project's database: LOCAL_PG_PORT=54330 make serve")
    os.environ["DATABASE_URL"] = url
    return url


def _readable(result: object) -> object:
    """Show a JSON body as JSON rather than as an escaped string."""
    if isinstance(result, dict) and isinstance(result.get("body"), str) and not result.get("isBase64Encoded"):
        try:
            return {**result, "body": json.loads(result["body"])}
        except ValueError:
            return result
    return result


def run_event(name: str) -> int:
    """Run one named event through the real handler and print event and result."""
    path = EVENTS_DIR / f"{name.removesuffix('.json')}.json"
    if not path.exists():
        known = sorted(p.stem for p in EVENTS_DIR.glob("*.json"))
        print(f"no event {name!r} in events/; " + (f"known: {', '.join(known)}" if known else "write one there first"))
        return 2
    event = json.loads(path.read_text())
    _use_database()
    from infra.config import project_config

    os.environ.setdefault("AUTH", project_config().auth)  # as the stack sets it on the function
    import lambda_function
    from local.events import LambdaContext

    print(f"--- event {path.relative_to(ROOT)}")
    print(json.dumps(event, indent=2))
    result = lambda_function.handler(event, LambdaContext())
    print("--- result")
    print(json.dumps(_readable(result), indent=2, default=str))
    return 0


def serve(port: int, workers: int, reload: bool, schedules: bool = True) -> int:
    """Serve the API like API Gateway would; with reload, edits in src/ restart the workers.

    Queues are consumed and jobs run on their timetable beside it (local/background.py); `schedules=False`
    runs no job.
    """
    if not schedules:
        os.environ["SCHEDULES"] = "off"
    import errno
    import socket

    from local.database import masked_url

    probe = socket.socket()
    try:
        probe.bind(("127.0.0.1", port))
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        print(f"error: port {port} is already in use (another `make serve`?); try `make serve PORT={port + 1}`")
        return 2
    finally:
        probe.close()
    given = bool(os.environ.get("DATABASE_URL", "").strip())
    url = _use_database()
    from local.background import local_queues
    from local.server import SRC, banner
    from local.server import serve as serve_forever

    queues = local_queues(SRC)  # before the workers start: they send to it

    where = "from DATABASE_URL" if given else "embedded, make db-reset / make psql"
    print(banner("127.0.0.1", port, workers, f"{masked_url(url)}  ({where})", reload), flush=True)
    try:
        if not reload:
            serve_forever(port, workers)
            return 0
        from local.reload import Reloader

        return Reloader("127.0.0.1", port, workers).run()
    finally:
        if queues is not None:
            queues.stop()


def run_job(name: str) -> int:
    """Run one job once through the real handler, with the event its schedule sends, and print the result."""
    _use_database()
    from infra.config import project_config

    os.environ.setdefault("AUTH", project_config().auth)
    import lambda_function
    from lambdakit.background import JobFailed, scheduled_event
    from local.events import LambdaContext

    jobs = [job.name for job in lambda_function.router.routes.jobs]
    if name not in jobs:
        print(f"no job {name!r}; " + (f"known: {', '.join(jobs)}" if jobs else "declare one with @router.schedule"))
        return 2
    event = scheduled_event(name)
    print(f"--- job {name}")
    print(json.dumps(event, indent=2))
    try:
        result = lambda_function.handler(event, LambdaContext())
    except JobFailed as exc:
        print(f"--- failed: {exc} (the log line above says where)")
        return 1
    print("--- result")
    print(json.dumps(result, indent=2, default=str))
    return 0


def write_openapi(out: Path) -> int:
    """Write the document `/openapi.json` serves, for clients, docs and review (no database needed)."""
    import lambda_function
    from lambdakit.openapi import client_document
    from local.auth import document_access
    from local.server import api_title

    document = client_document(lambda_function.router.routes, title=api_title(), access=document_access())
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, indent=2) + "\n")
    print(f"wrote {out}")
    return 0


def psql(extra: list[str]) -> int:
    """Open psql on the local database: the system's, or the one inside the pgserver wheel; else print the URL."""
    import shutil

    from local.database import database_url
    from local.embedded_pg import POSTGRES_BIN_PATH

    url = database_url()
    binary = shutil.which("psql") or str(POSTGRES_BIN_PATH / "psql")
    if not Path(binary).is_file():
        print(f"psql not found; connect your client to: {url}")
        return 0
    sys.stdout.flush()
    os.execv(binary, [binary, url, *extra])  # noqa: S606 - hand the terminal over to psql, no shell involved


def db_reset(yes: bool) -> int:
    """Drop and rebuild the local database; a DATABASE_URL of your own needs --yes."""
    from local.database import database_url, masked_url, reset_database

    url = database_url()
    if os.environ.get("DATABASE_URL") and not yes:
        print(f"refusing to drop everything in {masked_url(url)} (DATABASE_URL) without --yes (make db-reset YES=1)")
        return 2
    applied = reset_database(url)
    print(f"reset {masked_url(url)}: applied {', '.join(applied) or 'no migrations'}, then db/seed.sql")
    return 0


def print_token(user: str, groups: list[str], scopes: list[str], ttl: int) -> int:
    """Print a token signed by this checkout's local key (.local/auth/); nothing deployed accepts it."""
    from local.tokens import issue_token

    if not user.strip():
        print("error: token: --user needs a name (make token USER=alice)", file=sys.stderr)
        return 2

    def names(values: list[str]) -> tuple[str, ...]:
        return tuple(name.strip() for value in values for name in value.split(",") if name.strip())

    try:
        token = issue_token(user, names(groups), names(scopes), ttl=ttl)
    except ValueError as exc:
        print(f"error: token: {exc}", file=sys.stderr)
        return 2
    print(token)
    print(f'local token for {user}, valid {ttl} s: curl -H "Authorization: Bearer $TOKEN" ...', file=sys.stderr)
    return 0


def print_credentials() -> int:
    """The local access key pair the server checks SigV4 signatures against (AUTH=iam), as exports."""
    from local.sigv4 import local_credentials

    credentials = local_credentials()
    print(f"export AWS_ACCESS_KEY_ID={credentials['aws_access_key_id']}")
    print(f"export AWS_SECRET_ACCESS_KEY={credentials['aws_secret_access_key']}")
    print("# local only: these open nothing but `make serve`; unset them before talking to AWS", file=sys.stderr)
    return 0


def _use_project_venv() -> None:
    """`python run_local.py ...` with any interpreter runs under the project's .venv, where its packages are."""
    venv = ROOT / ".venv"
    python = venv / "bin" / "python"
    if python.is_file() and Path(sys.prefix).resolve() != venv.resolve():
        os.execv(str(python), [str(python), str(Path(__file__).resolve()), *sys.argv[1:]])  # noqa: S606


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "command",
        nargs="?",
        help="an event name, or serve | db-init | db-reset | psql | openapi | token | credentials | events",
    )
    parser.add_argument("--job", help="run this scheduled job once (make run-local JOB=name)")
    parser.add_argument("--no-schedules", action="store_true", help="serve: run no job on its timetable")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="execution environments (processes), each serving one request at a time (default: WORKERS, else one"
        " per CPU, 2 to 4)",
    )
    parser.add_argument("--no-reload", action="store_true", help="serve: do not restart the workers on edits in src/")
    parser.add_argument("--out", type=Path, default=ROOT / ".build" / "openapi.json", help="openapi: where to write")
    parser.add_argument("--yes", action="store_true", help="db-reset: also drop a DATABASE_URL database")
    parser.add_argument("--user", default=os.environ.get("USER") or "developer", help="token: the user's name")
    parser.add_argument("--groups", action="append", default=[], help="token: groups, comma-separated")
    parser.add_argument("--scopes", action="append", default=[], help="token: OAuth scopes, comma-separated")
    parser.add_argument("--ttl", type=int, default=3600, help="token: seconds until it expires")
    args, extra = parser.parse_known_args(argv)
    if args.job:
        return run_job(args.job)
    if not args.command:
        parser.error("name an event or a command (or --job NAME)")
    if args.command == "psql":
        return psql([a for a in extra if a != "--"])
    if extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command == "db-reset":
        return db_reset(args.yes)
    if args.command == "openapi":
        return write_openapi(args.out)
    if args.command == "token":
        return print_token(args.user, args.groups, args.scopes, args.ttl)
    if args.command == "credentials":
        return print_credentials()
    if args.command == "serve":
        from local.workers import default_workers

        workers = args.workers if args.workers is not None else default_workers()
        return serve(args.port, workers, reload=not args.no_reload, schedules=not args.no_schedules)
    if args.command == "db-init":
        print(_use_database())
        return 0
    if args.command == "events":
        print("\n".join(sorted(p.stem for p in EVENTS_DIR.glob("*.json"))))
        return 0
    return run_event(args.command)


if __name__ == "__main__":
    _use_project_venv()
    sys.exit(main())
