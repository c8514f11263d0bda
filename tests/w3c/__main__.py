"""``python -m tests.w3c --url http://127.0.0.1:7878``: prints ``N passed, N failed`` per suite, then
every failure with its reason (known engine limitations marked as such)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from .runner import KNOWN_FAILURES, SUITES, W3C_DIR, format_reports, read_known_failures, run_all


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.w3c", description=__doc__)
    p.add_argument("--url", required=True, help="server root, e.g. http://127.0.0.1:8000")
    p.add_argument("--sparql-path", default="/sparql")
    p.add_argument("--store-path", default="/store", help="Graph Store Protocol endpoint")
    p.add_argument("--token", default=os.environ.get("COMMUNS_UPDATE_TOKEN"), help="bearer token for updates")
    p.add_argument("--suite", action="append", choices=list(SUITES), help="repeatable; default: all")
    p.add_argument("--no-load", action="store_true", help="the test data is in the store already")
    p.add_argument(
        "--gsp-feature",
        action="append",
        default=None,
        choices=["IndirectGraphIdentification", "DirectGraphIdentification", "POSTGraphCreation"],
        help="optional Graph Store Protocol features the server claims (default: indirect only)",
    )
    p.add_argument("--w3c-dir", type=Path, default=W3C_DIR)
    p.add_argument("--known-failures", type=Path, default=KNOWN_FAILURES)
    args = p.parse_args(argv)
    start = time.monotonic()
    reports = run_all(
        args.url,
        args.suite,
        token=args.token,
        sparql_path=args.sparql_path,
        store_path=args.store_path,
        load=not args.no_load,
        gsp_features=set(args.gsp_feature) if args.gsp_feature else None,
        w3c_dir=args.w3c_dir,
    )
    print(format_reports(reports, read_known_failures(args.known_failures)))
    print(f"({time.monotonic() - start:.1f} s)")
    return 0 if all(not r.failed for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
