"""The headline pipeline as one run (issue 23): text -> encoder -> intent clusters -> proxy
node -> identify -> estimate, checked against a direct computation with a tiny text encoder
built here (bag of words), so the test needs no language model."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from causalrec.encoders.base import Encoder

SIM = dict(n_users=300, per_user=20, confounding=2.0, text_noise=0.2)
STUDY = ["study.n_users=300", "study.per_user=20", "study.confounding=2.0",
         "study.text_noise=0.2"]


class BagOfWordsEncoder(Encoder):
    """Users as L2-normalised tf-idf word counts of their text (Salton & Buckley 1988)."""

    def __init__(self, data, dim=None, users="text"):
        super().__init__()
        if users != "text" or dim is not None:
            raise ValueError("the bag-of-words test encoder reads user text, no projection")
        texts = [t.lower().replace(".", " ").replace(",", " ") for t in data.user_text]
        vocab = {w: i for i, w in enumerate(sorted({w for t in texts for w in t.split()}))}
        counts = np.zeros((len(texts), len(vocab)), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.split():
                counts[row, vocab[word]] += 1
        counts *= np.log(len(texts) / (counts > 0).sum(0))  # idf: template words weigh ~0
        counts /= np.maximum(np.linalg.norm(counts, axis=1, keepdims=True), 1e-12)
        self.register_buffer("user_vec", torch.from_numpy(counts))
        self.n_users, self.n_items, self.dim = data.n_users, data.n_items, len(vocab)

    def encode_users(self, idx):
        return self.user_vec[idx]

    def encode_items(self, idx):
        return torch.zeros(len(idx), self.dim)


def _run(tmp_path, *overrides, name="r"):
    from causalrec.experiment.api import run

    return run(["experiment=intent_proxy", "logger=none", "~encoder",
                f"+encoder._target_={__name__}.BagOfWordsEncoder", *STUDY, *overrides],
               output_dir=tmp_path / name)


def _stratified(df: pd.DataFrame, z: str) -> float:
    """Backdoor adjustment by hand: sum_z P(z) (E[click | exposed, z] - E[click | not, z])."""
    total = 0.0
    for _, part in df.groupby(z):
        arm = part.groupby("exposure")["click"].mean()
        total += len(part) / len(df) * (arm[1] - arm[0])
    return float(total)


def test_proxy_run_reports_agreement_and_bias_share_of_a_direct_computation(tmp_path):
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    from causalrec.encoders import cluster_intents
    from causalrec.sim import simulate

    m = _run(tmp_path, "study.k=3", "seed=1")
    # the same pipeline, computed directly
    sim = simulate("intent_confounding", seed=1, **SIM)
    enc = BagOfWordsEncoder(sim.data)
    labels = cluster_intents(enc.encode_users(torch.arange(sim.data.n_users)).numpy(), k=3,
                             seed=1)
    df = sim.to_discrete_frame("logs")
    df["proxy"] = labels[sim.data.interactions["user"].to_numpy()]
    naive = float(df.loc[df.exposure == 1, "click"].mean() - df.loc[df.exposure == 0,
                                                                     "click"].mean())
    adjusted, oracle = _stratified(df, "proxy"), _stratified(df, "intent")
    truth = sim.truth.ate
    assert m["graph/ate_true"] == pytest.approx(truth, abs=1e-12)
    assert m["graph/ate_naive"] == pytest.approx(naive, abs=1e-12)
    assert m["graph/proxy_ari"] == pytest.approx(
        adjusted_rand_score(sim.truth.user_intent, labels), abs=1e-12)
    assert m["graph/proxy_nmi"] == pytest.approx(
        normalized_mutual_info_score(sim.truth.user_intent, labels), abs=1e-12)
    for key in ("backdoor", "ipw", "bn"):  # stratum IPW and the saturated network agree
        assert m[f"graph/ate_{key}"] == pytest.approx(adjusted, abs=1e-9), key
        assert m[f"graph/ate_oracle_{key}"] == pytest.approx(oracle, abs=1e-9), key
    share = (naive - adjusted) / (naive - truth)
    assert m["graph/bias_removed_backdoor"] == pytest.approx(share, abs=1e-9)
    assert m["graph/abs_err_backdoor"] == pytest.approx(abs(adjusted - truth), abs=1e-12)
    # the bag of words recovers the intent well at this noise, and the proxy removes bias
    assert m["graph/proxy_ari"] > 0.5 and 0.3 < share < 1.5, m
    # the run record holds the agreement and the bias removed, and what made the proxy
    rec = json.loads((tmp_path / "r" / "metrics.json").read_text())
    assert rec["metrics"]["graph/proxy_ari"] == m["graph/proxy_ari"]
    assert rec["metrics"]["graph/bias_removed_backdoor"] == m["graph/bias_removed_backdoor"]
    assert rec["identification"] == "backdoor" and rec["intent"] == "proxy"
    assert rec["proxy"]["k"] == 3 and rec["proxy"]["encoder"].endswith("BagOfWordsEncoder")


def test_revealed_and_latent_intent_against_the_proxy_runs_oracle(tmp_path):
    from causalrec.experiment.api import run

    common = ["experiment=intent_confounding", "logger=none", *STUDY, "seed=1"]
    revealed = run([*common, "study.intent=revealed"], output_dir=tmp_path / "rev")
    proxy = _run(tmp_path, "study.k=3", "seed=1", name="proxy")
    # the revealed-intent run is the proxy run's oracle: same rows, same numbers
    for key in ("bn", "backdoor", "ipw"):
        assert proxy[f"graph/ate_oracle_{key}"] == pytest.approx(revealed[f"graph/ate_{key}"],
                                                                 abs=1e-12)
    latent = run([*common, "study.intent=latent"], output_dir=tmp_path / "lat")
    assert "graph/ate_bn" not in latent and latent["graph/ate_naive"] == revealed["graph/ate_naive"]
    rec = json.loads((tmp_path / "lat" / "metrics.json").read_text())
    assert rec["identification"].startswith("not identifiable") and \
        "exposure <- intent -> click" in rec["identification"]


def test_study_keys_are_checked(tmp_path):
    from hydra.errors import ConfigCompositionException

    from causalrec.experiment.api import run

    with pytest.raises(ValueError, match=r"study.intent must be one of .*got 'text'"):
        run(["experiment=intent_confounding", "logger=none", "study.intent=text"],
            output_dir=tmp_path / "a")
    with pytest.raises(ConfigCompositionException, match="intnet"):
        run(["experiment=intent_confounding", "logger=none", "study.intnet=proxy"],
            output_dir=tmp_path / "b")
    with pytest.raises(ValueError, match=r"study.latent must name the latent node.*'click'"):
        _run(tmp_path, "study.latent=click", name="c")


def test_graph_metrics_reach_the_configured_loggers(tmp_path):
    from causalrec.experiment.api import run

    m = run(["experiment=intent_confounding", "logger=csv", "study.n_users=200",
             "study.per_user=10"], output_dir=tmp_path / "r")
    logged = pd.read_csv(tmp_path / "r" / "csv" / "metrics.csv")
    assert logged["graph/ate_true"].iloc[0] == pytest.approx(m["graph/ate_true"])
    assert logged["graph/bias_removed_backdoor"].iloc[0] == pytest.approx(
        m["graph/bias_removed_backdoor"])


def test_the_same_run_on_a_dataset_gives_the_simulators_proxy_estimates(tmp_path):
    """study.source=dataset: the simulator's logs and user text handed over as your own
    data (no truth) give exactly the proxy estimates of the simulator route."""
    from causalrec.experiment.api import run
    from causalrec.sim import simulate

    sim = simulate("intent_confounding", seed=2, **SIM)
    own = run(["experiment=intent_proxy", "logger=none", "~encoder",
               f"+encoder._target_={__name__}.BagOfWordsEncoder", "study.k=3", "seed=2",
               "study.source=dataset"], data=sim.data, output_dir=tmp_path / "own")
    simulated = _run(tmp_path, "study.k=3", "seed=2", name="sim")
    for key in ("ate_naive", "ate_bn", "ate_backdoor", "ate_ipw"):
        assert own[f"graph/{key}"] == pytest.approx(simulated[f"graph/{key}"], abs=1e-12), key
    assert "graph/ate_true" not in own and "graph/bias_removed_backdoor" not in own
    rec = json.loads((tmp_path / "own" / "metrics.json").read_text())
    assert rec["source"] == "dataset" and rec["identification"] == "backdoor"
    with pytest.raises(ValueError, match=r"study.intent=revealed needs a column for the "
                                         r"latent node\(s\) \['intent'\]"):
        run(["experiment=intent_confounding", "logger=none", "study.source=dataset"],
            data=sim.data, output_dir=tmp_path / "bad")
