"""Registry + fetcher: ml-100k from the recbole wheel, OBD from the obp sdist, the cache."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

import causalrec.data as crd
from causalrec.data import fetcher as fetch_mod
from causalrec.data import movielens

WHEEL_SHA256 = "9c9948202011f37eb0a7c6768129313f00d6403ad221ec940d5e2d5d5f33a407"


@pytest.fixture(scope="session")
def recbole_wheel(tmp_path_factory):
    """The real recbole==1.2.1 wheel: downloaded with pip once, then kept (checked by sha256)
    in the default cache's test folder so later sessions do not hit PyPI again."""
    kept = fetch_mod.cache_root() / ".test-artefacts" / "recbole-1.2.1-py3-none-any.whl"
    if kept.exists() and fetch_mod.sha256_file(kept) == WHEEL_SHA256:
        return kept
    d = tmp_path_factory.mktemp("wheel")
    wheel = fetch_mod.pip_download(movielens.ARTEFACT.requirement, d)
    assert fetch_mod.sha256_file(wheel) == WHEEL_SHA256
    fetch_mod.write_bytes(kept, Path(wheel).read_bytes())
    return kept


@pytest.fixture
def temp_cache(tmp_path, monkeypatch, recbole_wheel):
    """An empty per-test CAUSALREC_DATA whose 'pip download' copies the session's wheel."""
    monkeypatch.setenv("CAUSALREC_DATA", str(tmp_path / "cache"))
    calls = []

    def fake_download(requirement, dest, pip_args=()):
        calls.append(requirement)
        return Path(shutil.copy(recbole_wheel, dest))

    monkeypatch.setattr(fetch_mod, "pip_download", fake_download)
    return tmp_path / "cache", calls


def test_fetch_writes_verified_manifest(temp_cache):
    root, calls = temp_cache
    path = crd.fetch("ml-100k", quiet=True)
    assert path == root / "ml-100k" and calls == ["recbole==1.2.1"]
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["requirement"] == "recbole==1.2.1"
    assert sorted(manifest["files"]) == ["ml-100k.inter", "ml-100k.item", "ml-100k.user"]
    for name, digest in manifest["files"].items():
        assert fetch_mod.sha256_file(path / name) == digest
    # nothing but the final folder is left in the cache root
    assert sorted(p.name for p in root.iterdir()) == [".ml-100k.lock", "ml-100k"]


def test_second_load_reads_cache_without_pip(temp_cache, monkeypatch):
    crd.load("ml-100k", quiet=True)

    def no_subprocess(*a, **k):
        raise AssertionError("pip must not run on a cached load")

    monkeypatch.setattr(subprocess, "run", no_subprocess)
    monkeypatch.setattr(fetch_mod, "pip_download", no_subprocess)
    data = crd.load("ml-100k", quiet=True)
    assert (data.n_users, data.n_items, len(data)) == (943, 1682, 100_000)


def test_interrupted_fetch_leaves_no_partial_cache(temp_cache, monkeypatch):
    root, _ = temp_cache
    real = fetch_mod.write_bytes
    written = []

    def dying_write(path, data):
        if written:
            raise KeyboardInterrupt  # the user hits Ctrl-C after the first file
        written.append(path)
        return real(path, data)

    monkeypatch.setattr(fetch_mod, "write_bytes", dying_write)
    with pytest.raises(KeyboardInterrupt):
        crd.fetch("ml-100k", quiet=True)
    assert not (root / "ml-100k").exists()
    assert [p.name for p in root.iterdir()] == [".ml-100k.lock"]  # no staging leftovers
    monkeypatch.setattr(fetch_mod, "write_bytes", real)
    assert len(crd.load("ml-100k", quiet=True)) == 100_000


def test_corrupt_cache_is_detected_and_force_refetch_repairs(temp_cache):
    root, _ = temp_cache
    crd.fetch("ml-100k", quiet=True)
    f = root / "ml-100k" / "ml-100k.item"
    f.write_bytes(f.read_bytes().replace(b"Toy Story", b"Toy Storm"))
    with pytest.raises(crd.FetchError, match=r"ml-100k\.item has sha256 .* manifest"):
        crd.load("ml-100k", quiet=True)
    crd.fetch("ml-100k", force=True, quiet=True)
    assert crd.load("ml-100k", quiet=True).item_features.at[0, "title"] == "Toy Story"


def test_pip_failure_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("CAUSALREC_DATA", str(tmp_path))

    def failing_run(cmd, **kw):
        return subprocess.CompletedProcess(cmd, 1, "", "ERROR: No matching distribution")

    monkeypatch.setattr(subprocess, "run", failing_run)
    with pytest.raises(crd.FetchError, match=r"(?s)recbole==1\.2\.1.*No matching distribution"):
        crd.fetch("ml-100k", quiet=True)
    assert [p.name for p in tmp_path.iterdir()] == [".ml-100k.lock"]


def test_ml100k_contents():
    data = crd.load("ml-100k", quiet=True)  # default cache: fetched once per machine
    assert (data.n_users, data.n_items, len(data)) == (943, 1682, 100_000)
    df = data.interactions
    assert set(np.unique(df["rating"])) == {1.0, 2.0, 3.0, 4.0, 5.0}
    assert df["timestamp"].min() > 8.7e8 and "label" not in df.columns
    assert data.item_ids[0] == "1" and data.user_ids[942] == "943"
    assert data.item_text[0] == "Toy Story (1995). Genres: Animation, Children's, Comedy"
    assert data.item_features.loc[0, "genres"] == ("Animation", "Children's", "Comedy")
    assert data.item_features["genre_Drama"].sum() == 725  # GroupLens' genre counts
    assert data.user_features.loc[0, ["age", "gender", "occupation"]].tolist() == \
        [24, "M", "technician"]
    # the first interaction of the file: user 196 rated item 242 with 3 at 881250949
    first = df.iloc[0]
    assert (data.user_ids[int(first["user"])], data.item_ids[int(first["item"])]) == \
        ("196", "242")
    assert (first["rating"], first["timestamp"]) == (3.0, 881250949.0)
    labelled = crd.load("ml-100k", threshold=4, quiet=True)
    assert labelled.interactions["label"].sum() == (df["rating"] >= 4).sum() == 55_375


def test_grouplens_folder_gives_the_same_dataset(tmp_path):
    """Write the data out in GroupLens format and load it back via path=."""
    data = crd.load("ml-100k", quiet=True)
    df = data.interactions
    lines = [f"{data.user_ids[u]}\t{data.item_ids[i]}\t{int(r)}\t{int(t)}"
             for u, i, r, t in zip(df["user"], df["item"], df["rating"], df["timestamp"])]
    (tmp_path / "u.data").write_text("\n".join(lines) + "\n")
    it = data.item_features
    rows = []
    for k in range(data.n_items):
        flags = ["1" if g in it.at[k, "genres"] else "0" for g in movielens.GENRES]
        year = it.at[k, "year"]
        title, date = (f"{it.at[k, 'title']} ({year})", f"01-Jan-{year}") if year.isdigit() \
            else (it.at[k, "title"], "")
        rows.append("|".join([data.item_ids[k], title, date, "", "http://x", *flags]))
    (tmp_path / "u.item").write_text("\n".join(rows) + "\n", encoding="latin-1")
    uf = data.user_features
    (tmp_path / "u.user").write_text("\n".join(
        f"{data.user_ids[k]}|{uf.at[k, 'age']}|{uf.at[k, 'gender']}|{uf.at[k, 'occupation']}|"
        f"{uf.at[k, 'zip_code']}" for k in range(data.n_users)) + "\n")
    again = crd.load("ml-100k", path=tmp_path)
    assert again.fingerprint() == data.fingerprint()
    # titles that carry their own "(year)" (one item in ml-100k) lose it in GroupLens form
    same = [k for k in range(data.n_items)
            if not data.item_features.at[k, "title"].endswith(")")]
    assert len(same) >= 1600
    assert [again.item_text[k] for k in same] == [data.item_text[k] for k in same]
    assert again.user_features.equals(data.user_features)


def test_obd_random_all():
    data = crd.load("obd", policy="random", campaign="all", quiet=True)
    df = data.interactions
    assert len(df) == 10_000 and data.n_items == 80
    p = df["propensity"].to_numpy()
    assert ((p > 0) & (p <= 1)).all() and np.allclose(p, 1 / 80)  # uniform over 80 items
    assert set(df["position"]) == {0, 1, 2} and set(df["label"]) <= {0.0, 1.0}
    assert (df["policy"] == "random").all() and df["round"].tolist() == list(range(10_000))
    assert np.all(np.diff(df["timestamp"].to_numpy()) >= 0)
    assert df["label"].sum() == 38  # 0.38% click rate (bandit feedback: tests/ope)
    assert df.filter(like="affinity_").shape == (10_000, 80)


def test_obd_bts_and_both():
    bts = crd.load("obd", policy="bts", campaign="men", quiet=True)
    p = bts.interactions["propensity"].to_numpy()
    assert ((p > 0) & (p <= 1)).all() and p.std() > 0 and bts.n_items == 34
    both = crd.load("obd", policy="both", campaign="men", quiet=True)
    assert both.interactions["policy"].value_counts().to_dict() == {"random": 10_000,
                                                                    "bts": 10_000}
    with pytest.raises(crd.DataValidationError, match="campaign"):
        crd.load("obd", campaign="kids")


def test_registry_lists_lazily_and_accepts_new_entries(monkeypatch):
    from causalrec.data import registry

    names = crd.datasets()
    assert {"ml-100k", "obd", "synthetic", "ml-100k-semisynthetic", "recbole"} <= set(names)
    monkeypatch.setitem(registry._REGISTRY, "missing", registry.Entry(
        "missing", "causalrec.data.no_such_module:load"))
    assert registry.info("missing")["available"] is False
    with pytest.raises(crd.DataValidationError, match="not available"):
        crd.load("missing")
    with pytest.raises(crd.DataValidationError, match="unknown dataset 'nope'"):
        crd.load("nope")
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    crd.register("tiny", lambda n=5: crd.generate_interactions(n_users=n, n_items=10,
                                                              per_user=2))
    assert crd.load("tiny", n=7).n_users == 7


def test_cli(capsys):
    from causalrec.data.cli import main

    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "ml-100k" in out and "synthetic" in out
    assert main(["info", "ml-100k", "--load"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["summary"]["interactions"] == 100_000 and info["cached"] is True
    assert main(["fetch", "nope"]) == 1
