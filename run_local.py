"""Run the Lambda on this machine, against a real PostgreSQL (DATABASE_URL, or an embedded one).

    python run_local.py EVENT_NAME            run events/EVENT_NAME.json through the handler
    python run_local.py serve [--port 3000]   serve the API on 127.0.0.1 like API Gateway
    python run_local.py db-init               apply schema and seed, print the database URL
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
    from local.database import prepare_database

    url = prepare_database()
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
        print(f"no event {name!r}; known: {', '.join(sorted(p.stem for p in EVENTS_DIR.glob('*.json')))}")
        return 2
    event = json.loads(path.read_text())
    _use_database()
    import lambda_function
    from local.events import LambdaContext

    print(f"--- event {path.relative_to(ROOT)}")
    print(json.dumps(event, indent=2))
    result = lambda_function.handler(event, LambdaContext())
    print("--- result")
    print(json.dumps(_readable(result), indent=2, default=str))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", help="an event name, or serve | db-init | events")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    parser.add_argument(
        "--workers",
        type=int,
        default=int(os.environ.get("WORKERS", "4")),
        help="execution environments (processes), each serving one request at a time",
    )
    args = parser.parse_args(argv)
    if args.command == "serve":
        url = _use_database()
        from local.server import serve

        print(f"serving http://127.0.0.1:{args.port}  ({args.workers} workers)  database: {url}", flush=True)
        serve(args.port, args.workers)
        return 0
    if args.command == "db-init":
        print(_use_database())
        return 0
    if args.command == "events":
        print("\n".join(sorted(p.stem for p in EVENTS_DIR.glob("*.json"))))
        return 0
    return run_event(args.command)


if __name__ == "__main__":
    sys.exit(main())
