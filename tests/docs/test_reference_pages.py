"""The generated reference pages cover what they claim: every exported name has an API
entry, every config group / option / key has a generated row, every numbered notebook a
tutorial page, and the offline intersphinx inventories resolve the peers' objects.

The expected sets are computed here independently of the generators (the export tables are
read from the packages' source with ``ast``, the configs walked and flattened afresh), and
the generated page *sources* are parsed, not the HTML."""

from __future__ import annotations

import ast
import inspect
import json
import re
import sys
from pathlib import Path

import pytest
import yaml

from .conftest import DOCS

ROOT = DOCS.parent
sys.path.insert(0, str(DOCS / "_ext"))

import cr_api  # noqa: E402
import cr_configs  # noqa: E402
import cr_tutorials  # noqa: E402


def exports_from_source(init: Path) -> set[str]:
    """Names in a package ``__init__.py``'s ``_LAZY`` dict and ``__all__`` list literals."""
    tree = ast.parse(init.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        target = node.targets[0] if isinstance(node, ast.Assign) else \
            node.target if isinstance(node, ast.AnnAssign) else None
        if not isinstance(target, ast.Name) or node.value is None:
            continue
        if target.id == "_LAZY" and isinstance(node.value, ast.Dict):
            names |= {k.value for k in node.value.keys if isinstance(k, ast.Constant)}
        if target.id == "__all__" and isinstance(node.value, (ast.List, ast.Tuple)):
            names |= {e.value for e in node.value.elts if isinstance(e, ast.Constant)}
    return {n for n in names if not n.startswith("__")}


def autosummary_entries(rst: str) -> set[str]:
    """The entries of the ``autosummary`` directives of a page source."""
    out, inside = set(), False
    for line in rst.splitlines():
        if line.startswith(".. autosummary::"):
            inside = True
            continue
        if inside:
            if line and not line.startswith(" "):
                inside = False
            elif line.strip() and not line.strip().startswith(":"):
                out.add(line.strip())
    return out


@pytest.fixture(scope="module")
def api_pages(tmp_path_factory):
    out = tmp_path_factory.mktemp("api")
    cr_api.write_api_pages(out)
    return out


def test_every_exported_name_has_a_reference_entry(api_pages):
    packages = sorted(p.parent.name for p in (ROOT / "causalrec").glob("*/__init__.py"))
    assert set(packages) == set(cr_api.PACKAGES), "a causalrec package has no API page"
    for package in packages:
        page = api_pages / f"causalrec.{package}.rst"
        documented = autosummary_entries(page.read_text(encoding="utf-8"))
        exported = exports_from_source(ROOT / "causalrec" / package / "__init__.py")
        assert exported, package
        assert documented == exported, (package, sorted(exported - documented),
                                         sorted(documented - exported))


def test_api_index_lists_every_package_page():
    index = (DOCS / "api" / "index.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^(causalrec\.\w+)$", index, re.MULTILINE))
    assert listed == {f"causalrec.{p}" for p in cr_api.PACKAGES}


def test_each_head_and_estimator_cites_its_paper():
    import causalrec.heads as heads
    import causalrec.ope as ope

    year = re.compile(r"\b(19|20)\d\d\b")
    bases = {heads.Head, heads.PointwiseHead, ope.OffPolicyEstimator}
    checked = []
    for module, base in ((heads, heads.Head), (ope, ope.OffPolicyEstimator)):
        for name in module._LAZY:
            obj = getattr(module, name)
            if inspect.isclass(obj) and issubclass(obj, base) and obj not in bases:
                assert year.search(obj.__doc__ or ""), f"{name}'s docstring cites no paper"
                checked.append(name)
    assert {"IPSHead", "DRJLHead", "DoublyRobust", "SwitchDoublyRobust"} <= set(checked)


def test_references_by_defining_module_resolve_to_the_export():
    assert cr_api.exported_target("causalrec.data.frame.from_frame") == "causalrec.data.from_frame"
    assert cr_api.exported_target("causalrec.recommend.recommender.Recommender.recommend") == \
        "causalrec.recommend.Recommender.recommend"
    assert cr_api.exported_target("causalrec.data.frame.not_a_name") is None
    assert cr_api.exported_target("pandas.core.frame.DataFrame") is None


@pytest.fixture(scope="module")
def exported():
    return cr_api.exported_objects()


def test_module_references_and_private_bases_point_at_documented_pages(exported):
    import causalrec.ope as ope
    import causalrec.recommend as recommend

    assert cr_api.module_target("causalrec.data.preprocess") == "causalrec.data"
    assert cr_api.module_target("causalrec.data.no_such_module") is None
    assert cr_api.public_bases([ope.InverseProbabilityWeighting.__bases__[0]], exported) == \
        [ope.OffPolicyEstimator]
    assert cr_api.public_bases([ope.OffPolicyEstimator], exported) == [ope.OffPolicyEstimator]
    # an unexported mixin of causalrec's own (Updates) is not shown as a base ...
    assert [b.__name__ for b in recommend.Recommender.__bases__] == ["Updates"]
    assert cr_api.public_bases(list(recommend.Recommender.__bases__), exported) == [object]


def test_members_of_hidden_bases_are_documented_on_the_subclass(exported):
    """... but its members (Recommender.update) are: the subclass page is their only page;
    members of documented bases (OffPolicyEstimator's) stay on their own page."""
    inherited = cr_api.inherited_from_hidden(exported)
    assert inherited["causalrec.recommend.Recommender"] == "object"
    assert inherited["causalrec.ope.DoublyRobust"] == "OffPolicyEstimator, object"
    assert "causalrec.ope.OffPolicyEstimator" not in inherited
    assert "causalrec.models.CausalRecModule" not in inherited  # Lightning's private mixins
    template = (DOCS / "_templates" / "autosummary" / "class.rst").read_text(encoding="utf-8")
    assert ":inherited-members: {{ cr_inherited[fullname] }}" in template


def test_signatures_autodoc_cannot_parse_or_evaluate_are_rewritten():
    from causalrec.encoders import IntentClusters

    sig = "(labels: ndarray, k: int, centers: ndarray, silhouette: dict[int, float] = <factory>)"
    assert cr_api.factory_defaults(IntentClusters, sig) == \
        "(labels: ndarray, k: int, centers: ndarray, silhouette: dict[int, float] = dict())"
    assert cr_api.unaliased("pd.DataFrame") == "pandas.DataFrame"
    assert cr_api.unaliased("np.ndarray") == "numpy.ndarray"
    assert cr_api.unaliased("pandas.DataFrame") is None and cr_api.unaliased("pd") is None


@pytest.mark.parametrize("first, name", [("DiscreteSCM", "counterfactual"),
                                          ("summarize", "fidelity")])
def test_an_export_named_like_its_module_stays_the_export(first, name):
    """``causalrec.graphs.counterfactual`` is the function whether or not the module of the
    same name was imported first (the import system sets the package attribute to the
    module; autosummary would then document the module in place of the function)."""
    import subprocess

    package = "graphs" if name == "counterfactual" else "explain"
    code = (f"import inspect, causalrec.{package} as p; p.{first}; "
            f"import causalrec.{package}.{name}; "
            f"print(inspect.isfunction(p.{name}), p.{name}.__module__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout.split()
    assert out == ["True", f"causalrec.{package}.{name}"]


def test_autosummary_summaries_never_cut_an_inline_literal():
    doc = ["Closed-form fold-in (``s(u, i) = r . v_i``) of one user.", "More.", "",
           "Second paragraph."]
    cut = "Closed-form fold-in (``s(u, i) = r."
    assert cr_api.summary_keeping_literals(cut, doc) == \
        "Closed-form fold-in (``s(u, i) = r . v_i``) of one user. More."
    assert cr_api.summary_keeping_literals("Plain ``x``.", doc) == "Plain ``x``."
    cr_api._patch_autosummary()
    from sphinx.ext import autosummary

    assert autosummary.extract_summary._keeps_literals


def test_exported_constants_show_their_own_comment():
    import causalrec.sim as sim

    doc = cr_api.data_docstring("causalrec.sim.ROOT_GENERATORS", sim.ROOT_GENERATORS)
    assert doc and "root nodes" in doc[0]
    assert cr_api.data_docstring("causalrec.sim.nothing_here", 1) is None


# --------------------------------------------------------------------------- configs

def _leaves(node, prefix=""):
    if isinstance(node, dict) and node:
        for key, value in node.items():
            yield from _leaves(value, f"{prefix}.{key}" if prefix else str(key))
    else:
        yield prefix, node


def _sections(page: str) -> dict[str, str]:
    parts = re.split(r"^## `([^`]+)`$", page, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2]))


def test_every_config_group_option_and_key_has_a_generated_row(tmp_path):
    conf = ROOT / "conf"
    pages = cr_configs.write_config_pages(conf, tmp_path)
    groups = {p.parent.relative_to(conf).as_posix() for p in conf.rglob("*.yaml")
              if p.parent != conf}
    assert groups == set(pages) and {"head", "dataset", "hydra/launcher"} <= groups
    n_keys = 0
    for group in groups:
        sections = _sections(pages[group].read_text(encoding="utf-8"))
        options = {p.stem for p in (conf / group).glob("*.yaml")}
        assert set(sections) == options, group
        for option in options:
            config = yaml.safe_load((conf / group / f"{option}.yaml").read_text()) or {}
            config.pop("defaults", None)
            for key, value in _leaves(config):
                if not key:
                    continue
                shown = value if isinstance(value, str) else json.dumps(value)
                row = f"| `{key}` | `{shown.replace('|', chr(92) + '|')}` |"
                assert row in sections[option], (group, option, row)
                n_keys += 1
    assert n_keys > 100
    root = (tmp_path / "config.md").read_text(encoding="utf-8")
    assert "| `model.optimizer.lr` | `0.001` |" in root


def test_config_pages_follow_conf_changes(tmp_path):
    conf = tmp_path / "conf"
    (conf / "head").mkdir(parents=True)
    (conf / "config.yaml").write_text("defaults:\n  - head: toy\nseed: 0\n")
    (conf / "head" / "toy.yaml").write_text("# A toy *head*.\n_target_: x.Y\nalpha: 0.5\n"
                                            "nested: {beta: [1, 2]}\n")
    out = tmp_path / "out"
    page = cr_configs.write_config_pages(conf, out)["head"].read_text()
    assert "Default: `toy`" in page and r"A toy \*head\*." in page
    assert "| `nested.beta` | `[1, 2]` |" in page and "| `alpha` | `0.5` |" in page
    (conf / "head" / "toy.yaml").write_text("_target_: x.Y\nalpha: 0.7\n")
    page = cr_configs.write_config_pages(conf, out)["head"].read_text()
    assert "| `alpha` | `0.7` |" in page and "nested.beta" not in page


# --------------------------------------------------------------------------- tutorials

def test_every_numbered_notebook_is_a_tutorial_page_without_outputs(tmp_path):
    written = cr_tutorials.write_tutorials(ROOT / "notebooks", tmp_path)
    numbered = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert [p.name for p in written] == numbered and len(numbered) >= 10
    for path in written:
        nb = json.loads(path.read_text(encoding="utf-8"))
        assert "".join(nb["cells"][0]["source"]).startswith("# ")
        note = "".join(nb["cells"][1]["source"])
        assert f"notebooks/{path.name}" in note and "QUICK" in note
        assert not any(c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code")


# --------------------------------------------------------------------------- intersphinx

def test_offline_inventories_resolve_the_peers_objects(tmp_path):
    import cr_inventories
    from sphinx.util.inventory import InventoryFile

    paths = cr_inventories.write_inventories(tmp_path)
    wanted = {"pandas": ("pandas.DataFrame", "py:class",
                         "https://pandas.pydata.org/docs/reference/api/pandas.DataFrame.html"),
              "torch": ("torch.nn.Module", "py:class",
                        "https://docs.pytorch.org/docs/stable/generated/torch.nn.Module.html"),
              "lightning": ("lightning.pytorch.LightningModule", "py:class",
                            "https://lightning.ai/docs/pytorch/stable/api/"
                            "lightning.pytorch.core.LightningModule.html"),
              "pgmpy": ("pgmpy.models.DiscreteBayesianNetwork", "py:class",
                        "https://pgmpy.org/search.html?q=DiscreteBayesianNetwork"),
              "python": ("collections.abc.Sequence", "py:class",
                         "https://docs.python.org/3/library/collections.abc.html"
                         "#collections.abc.Sequence"),
              "numpy": ("numpy.ndarray", "py:class",
                        "https://numpy.org/doc/stable/reference/generated/numpy.ndarray.html")}
    for project, (name, role, url) in wanted.items():
        base = cr_inventories.PROJECTS[project][0]
        with open(paths[project], "rb") as f:
            inv = InventoryFile.load(f, base, lambda a, b: a + b)
        data = inv.data if hasattr(inv, "data") else inv
        entry = data[role][name]
        uri = entry.uri if hasattr(entry, "uri") else entry[2]
        assert uri == url, (project, uri)
