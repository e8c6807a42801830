"""Intent-aware models against our best ID-only debiasing head on ml-100k intervened.

The study behind notebook ``10_intent`` part (b) and the README's intent paragraph: every
method trains on the same split (``experiment=debias_ml100k``: ``dataset=ml100k_intervened``,
dim 64, lr 0.002, batch 2048, up to 60 epochs, early stopping on val NDCG@10) and the same
seeds, so the runs pair on seed. Three roles:

* ``id``: the ID-only debiasing heads of our own; the *baseline* is the one with the best
  mean validation NDCG@10 (never chosen on test).
* ``intent``: the intent-aware variants the issue names (hybrid item text, users from their
  own titles, the deconfounded head, a CPU-sized UniSRec-style encoder).
* ``candidate``: improvements aimed at the gap; the *selected* one is the candidate with the
  best mean validation NDCG@10, and only it is claimed against the baseline.

Each run is a normal run record under ``--out/<method>/seed<k>`` (an existing finished run is
kept, so an interrupted study resumes); the script then runs ``causalrec-compare`` over the
records (paired on seed, t intervals) into ``--out/compare-*`` and writes one row per run
to ``--csv`` (default ``notebooks/data/intent_ml100k.csv``, the table the notebook reads).

    .venv/bin/python scripts/studies/intent_ml100k.py                 # the full study
    .venv/bin/python scripts/studies/intent_ml100k.py --methods id_pda hybrid_dice --seeds 0
    .venv/bin/python scripts/studies/intent_ml100k.py --list
    .venv/bin/python scripts/studies/intent_ml100k.py --seeds 0 1 2 3 4 5 6 7 \
        --methods id_pda id_dice hybrid_dice hybrid_dice_gm4 hybrid_deconf_bpr \
        --csv notebooks/data/intent_ml100k_8seeds.csv       # the closest ones, more seeds
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("WANDB_MODE", "disabled")

ROOT = Path(__file__).resolve().parents[2]
COMMON = ["experiment=debias_ml100k", "logger=none", "trainer.enable_progress_bar=false",
          "threads=1"]
#: UniSRec-style encoder sized for 2 CPU cores (the full-size default did not finish in 21 min)
UNISREC_SMALL = ["encoder=unisrec", "encoder.dim=32", "encoder.max_len=20", "encoder.layers=1",
                 "encoder.experts=4", "trainer.max_epochs=6", "model.early_stopping_patience=3"]
HYBRID_ITEMS = ["encoder=hybrid", "encoder.gate_bias=-2.0", "encoder.text.users=id"]

#: slug -> (label, role, overrides); the order is the table's order
METHODS: dict[str, tuple[str, str, list[str]]] = {
    "id_naive": ("ID + MF (naive)", "id", ["encoder=id", "head=naive"]),
    "id_ips": ("ID + IPS (user pop.^0.5)", "id",
               ["encoder=id", "head=ips", "head.propensity.by=user", "head.propensity.eta=0.5"]),
    "id_pda": ("ID + PDA", "id", ["encoder=id", "head=pda"]),
    "id_dice": ("ID + DICE", "id", ["encoder=id", "head=dice"]),
    "id_macr": ("ID + MACR", "id", ["encoder=id", "head=macr"]),
    "hybrid_dice": ("hybrid (MiniLM item text + ID, ID users) + DICE", "intent",
                    [*HYBRID_ITEMS, "head=dice"]),
    "hybrid_pda": ("hybrid (MiniLM item text + ID, ID users) + PDA", "intent",
                   [*HYBRID_ITEMS, "head=pda"]),
    "title_users_pda": ("MiniLM, users from own titles + PDA", "intent",
                        ["encoder=minilm", "encoder.users=reviews", "head=pda"]),
    "id_deconf": ("ID + deconfounded (title intents)", "intent",
                  ["encoder=id", "head=deconfounded", "+head.text.users=reviews"]),
    "unisrec_pda": ("UniSRec-style, small (text only) + PDA", "intent",
                    [*UNISREC_SMALL, "head=pda"]),
    # candidates aimed at the gap, selected on validation
    "hybrid_dice_g0": ("hybrid, gate starting at 50% text + DICE", "candidate",
                       ["encoder=hybrid", "encoder.gate_bias=0.0", "encoder.text.users=id",
                        "head=dice"]),
    "text_items_dice": ("MiniLM items only (no item ID), ID users + DICE", "candidate",
                        ["encoder=minilm", "encoder.users=id", "head=dice"]),
    "hybrid_deconf_bpr": ("hybrid + deconfounded, pairwise (title intent clusters)",
                          "candidate",
                          [*HYBRID_ITEMS, "head=deconfounded", "head.loss_type=bpr",
                           "dataset.sampling=pairwise", "+head.text.users=reviews",
                           "head.weight_decay=0.0", "head.exposure_term=false"]),
    "hybrid_deconf_bpr_exp": ("hybrid + deconfounded, pairwise, with the exposure term",
                              "candidate",
                              [*HYBRID_ITEMS, "head=deconfounded", "head.loss_type=bpr",
                               "dataset.sampling=pairwise", "+head.text.users=reviews",
                               "head.weight_decay=0.0"]),
    "hybrid_dice_gm4": ("hybrid, gate starting at 2% text (a small text residual) + DICE",
                        "candidate",
                        ["encoder=hybrid", "encoder.gate_bias=-4.0", "encoder.text.users=id",
                         "head=dice"]),
    "id_ips_intent": ("ID + IPS (intent-aware exposure model)", "candidate",
                      ["encoder=id", "head=ips", "propensity@head.propensity=intent",
                       "head.propensity.clusters=auto", "+head.propensity.text.users=reviews"]),
}
METRICS = ("test/ndcg@10", "best_val/ndcg@10", "test/recall@10")


def run_method(slug: str, seed: int, out: Path) -> dict | None:
    """Train one (method, seed) into ``out/<slug>/seed<seed>``; reuse a finished record."""
    import torch

    from causalrec.experiment import run

    run_dir = out / slug / f"seed{seed}"
    record = run_dir / "metrics.json"
    if record.exists():
        print(f"  {slug} seed {seed}: kept {record}", flush=True)
        return json.loads(record.read_text())
    if run_dir.exists():
        raise FileExistsError(f"{run_dir} holds an unfinished run; move it aside to rerun")
    torch.set_num_threads(1)
    start = time.perf_counter()
    try:
        run([*COMMON, *METHODS[slug][2], f"seed={seed}", f"tags=[{slug}]"], output_dir=run_dir)
    except Exception:  # one failed method must not stop the study; the table says so
        traceback.print_exc()
        print(f"  {slug} seed {seed}: FAILED", flush=True)
        return None
    print(f"  {slug} seed {seed}: {time.perf_counter() - start:.0f} s", flush=True)
    return json.loads(record.read_text())


def table(out: Path, slugs, seeds):
    """One row per finished run: method, role, seed, the metrics, wall time, overrides."""
    import pandas as pd

    rows = []
    for slug in slugs:
        label, role, overrides = METHODS[slug]
        for seed in seeds:
            record = out / slug / f"seed{seed}" / "metrics.json"
            if not record.exists():
                continue
            rec = json.loads(record.read_text())
            m = rec["metrics"]
            rows.append({"slug": slug, "method": label, "role": role, "seed": seed,
                         **{k: m.get(k) for k in METRICS},
                         "epochs": m.get("epochs"), "wall_s": rec.get("wall_time_s"),
                         "data_fingerprint": rec.get("data_fingerprint"),
                         "overrides": " ".join(overrides)})
    return pd.DataFrame(rows)


def choose(runs, role: str) -> str | None:
    """The slug of ``role`` with the best mean validation NDCG@10 over its runs."""
    sub = runs[runs["role"] == role]
    if sub.empty:
        return None
    return str(sub.groupby("slug")["best_val/ndcg@10"].mean().idxmax())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--methods", nargs="*", default=list(METHODS), choices=list(METHODS))
    ap.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    ap.add_argument("--out", type=Path, default=ROOT / "outputs" / "studies" / "intent_ml100k")
    ap.add_argument("--csv", type=Path, default=ROOT / "notebooks" / "data" / "intent_ml100k.csv")
    ap.add_argument("--list", action="store_true", help="print the methods and exit")
    ap.add_argument("--no-train", action="store_true", help="only tabulate finished runs")
    args = ap.parse_args(argv)
    if args.list:
        for slug, (label, role, overrides) in METHODS.items():
            print(f"{slug:18s} {role:9s} {label}\n{'':28s} {' '.join(overrides)}")
        return 0
    args.out.mkdir(parents=True, exist_ok=True)
    if not args.no_train:
        for slug in args.methods:
            print(f"{slug}: {METHODS[slug][0]}", flush=True)
            for seed in args.seeds:
                run_method(slug, seed, args.out)

    from causalrec import atomic
    from causalrec.experiment.compare import compare

    runs = table(args.out, args.methods, args.seeds)
    if runs.empty:
        print("no finished runs", file=sys.stderr)
        return 1
    atomic.write_text(args.csv, runs.to_csv(index=False, float_format="%.6g"))
    print(f"wrote {args.csv} ({len(runs)} runs)")
    baseline, selected = choose(runs, "id"), choose(runs, "candidate")
    print(f"baseline (best ID head on validation): {baseline}; "
          f"selected candidate (on validation): {selected}")
    if baseline is not None and runs["slug"].nunique() > 1:
        # the records of exactly these methods and seeds (others may share --out)
        dirs = [str(args.out / slug / f"seed{seed}")
                for slug, seed in zip(runs["slug"], runs["seed"], strict=True)]
        result = compare(dirs, group_by=["tags"], metrics=list(METRICS), baseline=f"[{baseline}]",
                         out_dir=args.out / f"compare-{time.strftime('%Y%m%d-%H%M%S')}",
                         progress=False)
        print(result.report)
        print(f"comparison written to {result.out_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
