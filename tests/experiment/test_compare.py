"""causalrec-compare on run directories with known metric values: paired differences,
intervals and p-values against hand computations, Holm, the Friedman/Nemenyi ranking,
grouping by config keys, and outputs that never overwrite one another."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from causalrec.experiment.record import write_record

HEADS = {"A": "causalrec.heads.HeadA", "B": "causalrec.heads.HeadB",
         "C": "causalrec.heads.HeadC"}
OFFSET = {"A": 0.01, "B": 0.0, "C": -0.02}


def _values(n_seeds=5, datasets=("d1", "d2"), seed=0):
    """metric[dataset][head][seed]: B = a seed effect; A = B + 0.01 ± noise; C = B - 0.02."""
    rng = np.random.default_rng(seed)
    out = {}
    for d in datasets:
        base = 0.30 + 0.05 * rng.standard_normal(n_seeds)
        out[d] = {h: base + OFFSET[h] + (0.002 * rng.standard_normal(n_seeds) if h != "B"
                                         else 0.0) for h in HEADS}
    return out


def _write_runs(root, values, overrides=True, fingerprint=lambda d, h, s: f"{d}-{s}"):
    """Real run directories (metrics.json + config.yaml) written by the record writer."""
    num = 0
    for d, by_head in values.items():
        for h, vals in by_head.items():
            for s, v in enumerate(vals):
                cfg = {"seed": s, "head": {"_target_": HEADS[h], "lr": 0.1},
                       "dataset": {"name": d}, "logger": {"wandb": {"group": "g1"}}}
                ov = [f"head={h}", f"dataset={d}", f"seed={s}"] if overrides else []
                write_record(root / str(num), {"test/ndcg@10": float(v),
                                               "test/recall@10": float(v) / 2},
                             config_yaml=yaml.safe_dump(cfg),
                             extra={"seed": s, "overrides": ov, "task": "train",
                                    "data_fingerprint": fingerprint(d, h, s)})
                num += 1


def _hand_paired(a, b, level=0.95):
    d = np.asarray(a) - np.asarray(b)
    n = len(d)
    mean = sum(d) / n
    sd = math.sqrt(sum((x - mean) ** 2 for x in d) / (n - 1))
    se = sd / math.sqrt(n)
    t = mean / se
    p = 2 * stats.t.sf(abs(t), n - 1)
    half = stats.t.ppf((1 + level) / 2, n - 1) * se
    return mean, sd, t, p, mean - half, mean + half


def test_paired_differences_interval_and_p_match_hand_computation(tmp_path):
    from causalrec.experiment.compare import compare

    values = _values()
    _write_runs(tmp_path / "sweep", values)
    res = compare([tmp_path / "sweep"], metrics=["test/ndcg@10"], out_dir="auto",
                  baseline="B", progress=False)
    assert res.group_by == ["head"] and res.blocks == ["dataset"]
    paired = pd.read_csv(res.out_dir / "paired.csv")
    assert len(paired) == 4  # (A, C) x (d1, d2)
    for d in ("d1", "d2"):
        block = paired[paired["dataset"] == d].set_index("method")
        ps = {}
        for h in ("A", "C"):
            mean, sd, t, p, lo, hi = _hand_paired(values[d][h], values[d]["B"])
            row = block.loc[h]
            assert row["n"] == 5 and row["baseline"] == "B"
            assert row["mean_diff"] == pytest.approx(mean, abs=1e-12)
            assert row["sd_diff"] == pytest.approx(sd, rel=1e-9)
            assert row["t"] == pytest.approx(t, rel=1e-9)
            assert row["p"] == pytest.approx(p, rel=1e-7)
            assert (row["ci_low"], row["ci_high"]) == (pytest.approx(lo, abs=1e-12),
                                                       pytest.approx(hi, abs=1e-12))
            ps[h] = p
        # the true offsets lie inside the 95% intervals
        assert block.loc["A", "ci_low"] < 0.01 < block.loc["A", "ci_high"]
        assert block.loc["C", "ci_low"] < -0.02 < block.loc["C", "ci_high"]
        # Holm over the two comparisons in the block, by hand
        lo_h, hi_h = sorted(ps, key=ps.get)
        assert block.loc[lo_h, "p_holm"] == pytest.approx(min(1, 2 * ps[lo_h]))
        assert block.loc[hi_h, "p_holm"] == pytest.approx(max(min(1, 2 * ps[lo_h]), ps[hi_h]))
    report = (res.out_dir / "report.md").read_text()
    assert "Holm over the 2 methods compared with 'B' in each block" in report
    assert "t 95%" in report and "paired on seed" in report


def test_critical_difference_ranking_orders_three_methods(tmp_path):
    from causalrec.experiment.compare import compare
    from causalrec.experiment.stats import critical_difference

    values = _values()
    _write_runs(tmp_path / "sweep", values)
    res = compare([tmp_path / "sweep"], metrics=["test/ndcg@10"], out_dir="auto",
                  baseline="B", progress=False)
    r = res.ranking
    assert list(r.ranks.index) == ["A", "B", "C"]
    assert list(r.ranks) == [1.0, 2.0, 3.0]
    n, k = 10, 3  # blocks = 2 datasets x 5 seeds, always ranked A > B > C
    chi2 = 12 * n / (k * (k + 1)) * (1 + 4 + 9) - 3 * n * (k + 1)
    assert r.n_blocks == n and r.friedman_stat == pytest.approx(chi2)
    assert r.friedman_p == pytest.approx(stats.chi2.sf(chi2, k - 1))
    # Demšar (2006) Table 5: q_0.05 = 2.343 for k = 3
    assert r.cd == pytest.approx(2.343 * math.sqrt(k * (k + 1) / (6 * n)), rel=1e-3)
    assert critical_difference(3, 10) == pytest.approx(r.cd)
    # A and C differ by 2 ranks > CD: Nemenyi says so; neighbours (1 rank < CD) do not
    assert r.nemenyi_p.loc["A", "C"] < 0.05 < r.nemenyi_p.loc["A", "B"]
    assert (res.out_dir / "cd.png").read_bytes()[:4] == b"\x89PNG"
    ranking = pd.read_csv(res.out_dir / "ranking.csv", index_col=0)
    assert list(ranking.index) == ["A", "B", "C"]
    # lower-is-better reverses the order; one block per dataset averages the seeds
    worst_first = compare([tmp_path / "sweep"], metrics=["test/ndcg@10"], baseline="B",
                          higher_is_better=False, progress=False).ranking
    assert list(worst_first.ranks.index) == ["C", "B", "A"]
    with pytest.warns(UserWarning, match="only 2 blocks"):
        per_dataset = compare([tmp_path / "sweep"], metrics=["test/ndcg@10"], baseline="B",
                              rank_over_seeds=True, progress=False).ranking
    assert per_dataset.n_blocks == 2 and list(per_dataset.ranks.index) == ["A", "B", "C"]


def test_holm_matches_the_textbook_and_statsmodels():
    from causalrec.experiment.stats import holm

    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert np.isnan(holm([0.2, float("nan")])[1]) and holm([0.2, float("nan")])[0] == 0.2
    multipletests = pytest.importorskip("statsmodels.stats.multitest").multipletests
    p = np.random.default_rng(1).uniform(0, 0.2, 7)
    assert holm(p) == pytest.approx(multipletests(p, method="holm")[1])


def test_fewer_than_three_seeds_warn_and_are_noted(tmp_path):
    from causalrec.experiment.compare import compare

    _write_runs(tmp_path / "s", _values(n_seeds=2, datasets=("d1",)))
    with pytest.warns(UserWarning, match="only 2 paired seeds"):
        res = compare([tmp_path / "s"], metrics=["test/ndcg@10"], baseline="B",
                      progress=False)
    diffs = res.paired["test/ndcg@10"]
    assert (diffs["n"] == 2).all() and diffs["note"].str.contains("n=2<3").all()
    assert any("only 2 paired seeds" in n for n in res.notes)
    assert "only 2 paired seeds" in res.report


def test_bootstrap_interval_brackets_the_mean(tmp_path):
    from causalrec.experiment.stats import paired_differences, paired_table

    _write_runs(tmp_path / "s", _values(n_seeds=8, datasets=("d1",)))
    from causalrec.experiment.runs import load_runs

    wide = paired_table(load_runs(tmp_path / "s"), ["head"], "test/ndcg@10")
    boot = paired_differences(wide, "B", interval="bootstrap").set_index("method")
    t_int = paired_differences(wide, "B").set_index("method")
    for h in ("A", "C"):
        d = wide[h] - wide["B"]
        assert boot.loc[h, "ci_low"] < d.mean() < boot.loc[h, "ci_high"]
        assert d.min() <= boot.loc[h, "ci_low"] and boot.loc[h, "ci_high"] <= d.max()
        assert boot.loc[h, "p"] == pytest.approx(t_int.loc[h, "p"])
    assert boot.attrs["interval"] == "bootstrap 95%"
    with pytest.raises(ValueError, match="interval must be"):
        paired_differences(wide, "B", interval="wald")
    with pytest.raises(KeyError, match="baseline 'Z' is not one of the methods"):
        paired_differences(wide, "Z")


def test_group_by_any_config_key_without_overrides(tmp_path):
    from causalrec.experiment.compare import compare, main

    values = _values(datasets=("d1",))
    _write_runs(tmp_path / "nb", values, overrides=False)  # notebook runs of old: no overrides
    res = compare([tmp_path / "nb"], group_by=["head._target_"], metrics=["test/ndcg@10"],
                  baseline="causalrec.heads.HeadB", progress=False)
    assert list(res.summary["head._target_"]) == sorted(HEADS.values())
    got = res.paired["test/ndcg@10"].set_index("method")
    mean = _hand_paired(values["d1"]["A"], values["d1"]["B"])[0]
    assert got.loc["causalrec.heads.HeadA", "mean_diff"] == pytest.approx(mean)
    # two config keys, one of them the block
    res2 = compare([tmp_path / "nb"], group_by=["head._target_"], blocks=["dataset.name"],
                   metrics=["test/ndcg@10"], progress=False)
    assert set(res2.paired["test/ndcg@10"]["dataset.name"]) == {"d1"}
    with pytest.raises(KeyError, match="'head' is a config group"):
        compare([tmp_path / "nb"], group_by=["head"], progress=False)
    with pytest.raises(KeyError, match=r"\['head.nope'\] are neither overrides"):
        compare([tmp_path / "nb"], group_by=["head.nope"], progress=False)
    assert main([str(tmp_path / "nb"), "--group-by", "head._target_,dataset.name",
                 "--metrics", "test/ndcg@10"]) == 0
    both = compare([tmp_path / "nb"], group_by=["head._target_", "dataset.name"],
                   metrics=["test/ndcg@10"], progress=False)
    assert both.group_by == ["head._target_"] and both.blocks == ["dataset.name"]


def test_default_keys_methods_vary_within_a_block_and_datasets_are_blocks(tmp_path):
    from causalrec.experiment.compare import compare

    _write_runs(tmp_path / "s", _values())
    for rec in (tmp_path / "s").rglob("metrics.json"):  # a per-dataset learning rate
        data = json.loads(rec.read_text())
        d = next(o for o in data["overrides"] if o.startswith("dataset="))[8:]
        data["overrides"].append(f"model.optimizer.lr={0.1 if d == 'd1' else 0.01}")
        rec.write_text(json.dumps(data))
    res = compare([tmp_path / "s"], metrics=["test/ndcg@10"], baseline="B", progress=False)
    assert res.group_by == ["head"] and res.blocks == ["dataset"]
    assert sorted(res.paired["test/ndcg@10"]["method"]) == ["A", "A", "C", "C"]
    assert res.notes == []  # the baseline was chosen: no note, 5 seeds: no warning


def test_duplicate_cells_and_different_data_are_reported(tmp_path):
    from causalrec.experiment.compare import compare

    values = _values(datasets=("d1",))
    _write_runs(tmp_path / "a", values)
    _write_runs(tmp_path / "b", values)
    with pytest.raises(ValueError, match="not unique per"):
        compare([tmp_path / "a", tmp_path / "b"], metrics=["test/ndcg@10"], progress=False)
    # head A trained on other data for seed 0: the pair is flagged
    _write_runs(tmp_path / "c", values,
                fingerprint=lambda d, h, s: "other" if (h, s) == ("A", 0) else f"{d}-{s}")
    rec = json.loads((tmp_path / "c" / "0" / "metrics.json").read_text())
    assert rec["data_fingerprint"] == "other" and rec["overrides"][0] == "head=A"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = compare([tmp_path / "c"], metrics=["test/ndcg@10"], baseline="B",
                      progress=False)
    notes = res.paired["test/ndcg@10"].set_index("method")["note"]
    assert notes["A"] == "different data in 1 pairs" and notes["C"] == ""


def test_comparisons_never_overwrite_each_other(tmp_path, capsys):
    from causalrec.experiment.compare import main

    _write_runs(tmp_path / "s", _values(datasets=("d1",)))
    assert main([str(tmp_path / "s"), "--baseline", "B"]) == 0
    assert main([str(tmp_path / "s"), "--baseline", "B", "--error", "std"]) == 0
    # by creation: two comparisons in the same second differ only in their hash suffix
    outs = sorted((tmp_path / "s").glob("compare-*"), key=lambda p: p.stat().st_mtime_ns)
    assert len(outs) == 2
    for out in outs:
        names = {p.name for p in out.iterdir()}
        assert {"runs.csv", "summary.csv", "summary.md", "report.md", "summary.png",
                "paired.csv", "pairs.csv", "paired.png", "ranking.csv", "cd.png"} <= names
        assert not list(out.glob(".*")), "temporary files left behind"
    assert "std over seeds" in (outs[1] / "summary.md").read_text()
    before = (outs[0] / "summary.md").read_bytes()
    assert main([str(tmp_path / "s"), "--out", str(outs[0])]) == 2
    assert "already exists" in capsys.readouterr().err
    assert (outs[0] / "summary.md").read_bytes() == before
    # nothing is written for a bad request
    assert main([str(tmp_path / "s"), "--baseline", "Z"]) == 2
    assert len(list((tmp_path / "s").glob("compare-*"))) == 2
    pairs = pd.read_csv(outs[0] / "pairs.csv")
    assert set(pairs.columns) >= {"seed", "method", "value", "baseline_value", "diff"}
    assert pairs["diff"].to_numpy() == pytest.approx(
        (pairs["value"] - pairs["baseline_value"]).to_numpy())
