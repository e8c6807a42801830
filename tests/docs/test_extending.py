"""The "extending" pages, followed literally: their code blocks are written / run as the page
says (see conftest.follow_page), so a page that drifts from the API fails here."""

from __future__ import annotations

import torch

from .conftest import DOCS, page_blocks


def test_page_blocks_reads_captions_and_languages():
    text = ("x\n```{code-block} python\n:caption: a/b.py\n\nprint(1)\n```\n"
            "```python\ny = 2\n```\n```bash\nls\n```\n")
    assert page_blocks(text) == [("python", "a/b.py", "print(1)\n"), ("python", None, "y = 2\n"),
                                 ("bash", None, "ls\n")]


def test_new_head_page(run_page, tmp_path):
    torch.set_num_threads(1)
    ns = run_page("extending/head.md")
    assert (tmp_path / "myconf" / "head" / "pop_bpr.yaml").exists()
    assert (tmp_path / "runs" / "pop_bpr" / "metrics.json").exists()
    assert ns["metrics"]["test/ndcg@10"] >= 0.0
    assert ns["head"].item_propensity.shape == (40,)


def test_extending_pages_exist_and_hold_code():
    for page in ("head", "encoder", "loader", "estimator"):
        blocks = page_blocks((DOCS / "extending" / f"{page}.md").read_text(encoding="utf-8"))
        assert any(lang == "python" and caption is None for lang, caption, _ in blocks), page


def test_new_encoder_page(run_page, tmp_path):
    torch.set_num_threads(1)
    ns = run_page("extending/encoder.md")
    assert (tmp_path / "runs" / "item_bag" / "metrics.json").exists()
    assert ns["enc"].dim == 8


def test_new_loader_page(run_page, tmp_path):
    from causalrec.data import registry

    torch.set_num_threads(1)
    try:
        ns = run_page("extending/loader.md")
    finally:
        registry._REGISTRY.pop("shop", None)  # the page registers a loader in this process
    assert (tmp_path / "runs" / "shop" / "metrics.json").exists()
    assert ns["data"].name == "shop"


def test_new_estimator_page(run_page):
    ns = run_page("extending/estimator.md")
    table = ns["table"]
    assert list(table.index) == ["ipw", "trimmed-snipw", "snipw-by-hand"]
    # the page's trimming really removed the heavy rounds (action 0, weight 2.8)
    assert 0 < ns["keep"].sum() < len(ns["keep"])
