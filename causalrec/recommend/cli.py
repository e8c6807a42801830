"""``causalrec-recommend``: top-K lists from a finished run, without Hydra or the dataset.

    causalrec-recommend RUN_DIR --users 12 57 --k 10 --out recs.parquet
    causalrec-recommend RUN_DIR --text "space operas with strong heroines" --k 5
    causalrec-recommend RUN_DIR --all --k 20 --out all_users.parquet

:func:`export_topk` writes every user's top-K to one Parquet file (atomically).
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd


def export_topk(recommender, path: str | os.PathLike, k: int = 10, exclude_seen: bool = True,
                objective: str = "score", batch: int = 4096, approximate: bool = False) -> Path:
    """Write every known user's top-``k`` (``user, rank, item, score``) to Parquet at
    ``path``, scoring ``batch`` users at a time; the file appears only when complete."""
    from ..atomic import write_bytes

    k = recommender.check_k(k)
    frames = []
    for start in range(0, recommender.n_users, int(batch)):
        idx = np.arange(start, min(start + int(batch), recommender.n_users))
        scores, items = recommender.topk_indices(idx, k, exclude_seen, objective=objective,
                                                 approximate=approximate)
        frames.append(recommender._frame(recommender.user_ids[idx], scores, items))
    buf = io.BytesIO()
    pd.concat(frames, ignore_index=True).to_parquet(buf, index=False)
    return write_bytes(path, buf.getvalue())


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="causalrec-recommend", description=__doc__.split("\n")[0])
    p.add_argument("run_dir", help="a finished causalrec-train run directory")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--users", nargs="+", help="raw user ids")
    who.add_argument("--text", action="append", help="a new user's text (repeatable)")
    who.add_argument("--all", action="store_true", help="every user (export)")
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--objective", choices=("score", "outcome", "uplift"), default="score")
    p.add_argument("--include-seen", action="store_true", help="do not exclude seen items")
    p.add_argument("--faiss", choices=("hnsw", "ivf"), help="approximate top-K with faiss")
    p.add_argument("--out", help="write the list to this .parquet (or .csv) file")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from .recommender import Recommender

    try:
        rec = Recommender.from_run(args.run_dir)
        if args.faiss:
            rec.build_index(args.faiss)
        if args.all:
            if not args.out:
                raise ValueError("--all needs --out FILE.parquet")
            path = export_topk(rec, args.out, args.k, not args.include_seen, args.objective,
                               approximate=bool(args.faiss))
            print(f"wrote the top-{args.k} of {rec.n_users} users to {path}")
            return 0
        if args.text:
            frame = rec.recommend_text(args.text, args.k, objective=args.objective)
        else:
            frame = rec.recommend(args.users, args.k, exclude_seen=not args.include_seen,
                                  objective=args.objective, approximate=bool(args.faiss))
    except (FileNotFoundError, KeyError, ValueError, TypeError) as exc:
        print(f"causalrec-recommend: error: {exc}", file=sys.stderr)
        return 2
    if args.out:
        from ..atomic import write_bytes

        buf = io.BytesIO()
        if args.out.endswith(".csv"):
            buf.write(frame.to_csv(index=False).encode())
        else:
            frame.to_parquet(buf, index=False)
        write_bytes(args.out, buf.getvalue())
        print(f"wrote {len(frame)} rows to {args.out}")
    else:
        print(frame.to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
