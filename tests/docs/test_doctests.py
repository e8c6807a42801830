"""The docstring examples (``>>>``) of the public API run and print what they say.

The public API is every name in the ``_LAZY`` table / ``__all__`` of a ``causalrec.*``
package (what the API reference documents); each package is one test, importing only the
objects it exports (nothing is downloaded: the examples use generated data and packaged
graphs).
"""

from __future__ import annotations

import doctest
import importlib
import inspect

import pytest

PACKAGES = ("data", "graphs", "sim", "encoders", "heads", "evaluation", "models", "ope",
            "recommend", "explain", "privacy", "experiment")
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def public_objects(package: str) -> dict[str, object]:
    """``{qualified name: object}`` of a package's exported names (constants left out:
    a dict's docstring is its type's)."""
    module = importlib.import_module(f"causalrec.{package}")
    names = list(getattr(module, "__all__", [])) + list(getattr(module, "_LAZY", {}))
    out = {}
    for name in dict.fromkeys(names):
        obj = getattr(module, name)
        if inspect.isclass(obj) or inspect.isfunction(obj) or inspect.ismodule(obj):
            out[f"causalrec.{package}.{name}"] = obj
    return out


def doctests(package: str) -> list[doctest.DocTest]:
    """The examples in the docstrings of a package's public objects (methods included) and
    of the package itself."""
    finder = doctest.DocTestFinder(exclude_empty=True)
    tests = finder.find(importlib.import_module(f"causalrec.{package}"), f"causalrec.{package}")
    for name, obj in public_objects(package).items():
        tests += finder.find(obj, name, globs={})
    seen, unique = set(), []
    for t in tests:
        key = (t.filename, t.lineno, t.name)
        if t.examples and key not in seen:
            seen.add(key)
            unique.append(t)
    return unique


@pytest.mark.parametrize("package", PACKAGES)
def test_docstring_examples_run(package):
    tests = doctests(package)
    if not tests:
        pytest.skip(f"causalrec.{package} has no docstring examples yet")
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    for t in tests:
        runner.run(t)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in " \
                               f"causalrec.{package} (see the output above)"


def test_examples_are_found_where_written():
    names = {t.name for p in PACKAGES for t in doctests(p)}
    assert {"causalrec.evaluation.evaluate", "causalrec.data.raw_to_index",
            "causalrec.ope.LoggedFeedback.build",
            "causalrec.graphs.identify", "causalrec.evaluation.gini_index",
            "causalrec.sim.simulate", "causalrec.encoders.build_encoder",
            "causalrec.encoders.IDEncoder", "causalrec.encoders.pool",
            "causalrec.encoders.cluster_intents", "causalrec.models.build_module",
            "causalrec.models.resolve_data_needs", "causalrec.explain.explain",
            "causalrec.privacy.build_private_training", "causalrec.privacy.epsilon_spent",
            "causalrec.privacy.advantage_bound", "causalrec.privacy.attack_metrics"} <= names


def test_a_wrong_example_fails():
    """The runner really compares output: an example printing the wrong value fails."""
    parser = doctest.DocTestParser()
    test = parser.get_doctest(">>> from causalrec.evaluation import gini_index\n"
                              ">>> gini_index([0, 0, 0, 4])\n0.5\n", {}, "wrong", None, 0)
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    runner.run(test, out=lambda _: None)
    assert runner.summarize(verbose=False).failed == 1
