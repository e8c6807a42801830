"""``causalrec-data``: fetch, list and describe datasets.

    causalrec-data list                 registered datasets and whether they are cached
    causalrec-data info ml-100k         loader, artefact, cache folder, files (+ --load: sizes)
    causalrec-data fetch ml-100k obd    download + verify into $CAUSALREC_DATA (--force refetches)
"""

from __future__ import annotations

import argparse
import json
import sys

from . import registry
from .fetcher import FetchError, cache_root
from .schema import DataValidationError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="causalrec-data", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="registered datasets")
    p_info = sub.add_parser("info", help="describe a dataset")
    p_info.add_argument("name")
    p_info.add_argument("--load", action="store_true", help="also load it and print its sizes")
    p_fetch = sub.add_parser("fetch", help="download and verify datasets into the cache")
    p_fetch.add_argument("names", nargs="+")
    p_fetch.add_argument("--force", action="store_true", help="refetch even if cached")
    args = parser.parse_args(argv)
    try:
        if args.command == "list":
            print(f"cache: {cache_root()}")
            for name in registry.names():
                e = registry.entry(name)
                state = ""
                if e.artefact is not None:
                    state = "cached" if registry.info(name).get("cached") else "not fetched"
                print(f"  {name:<24} {state:<12} {e.description}")
        elif args.command == "info":
            out = registry.info(args.name)
            if args.load:
                out["summary"] = registry.load(args.name).summary()
            print(json.dumps(out, indent=2, default=str))
        else:
            for name in args.names:
                path = registry.fetch(name, force=args.force)
                print(f"{name}: {path if path is not None else 'nothing to fetch (generated)'}")
    except (FetchError, DataValidationError) as e:
        print(f"causalrec-data: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
