"""Cross-references in the rendered docstrings resolve, checked in seconds.

``make docs`` is nitpicky (every reference must resolve), but it takes minutes and is not
part of ``make test``; this applies Sphinx's lookup for a ``:func:``/``:class:``/... role to
the docstrings the API pages render (each exported object, its documented members), so a
docstring naming an unexported helper (``:func:`_ratio_counts` ``) fails here too. A target
in a peer's namespace (pandas, torch, ...) is left to the build's offline inventories.
"""

from __future__ import annotations

import builtins
import importlib
import inspect
import re
import sys

import pytest

from .conftest import DOCS

sys.path.insert(0, str(DOCS / "_ext"))

import cr_api  # noqa: E402

ROLE = re.compile(r":(?:py:)?(func|class|meth|data|attr|exc|obj|mod):`(?P<body>[^`]+)`")
#: namespaces the build resolves through its intersphinx inventories
PEERS = ("pandas", "torch", "lightning", "pgmpy", "numpy", "omegaconf", "pd.", "np.", "nn.",
         "collections", "os", "pathlib", "typing", "dataclasses", "contextlib", "numbers",
         "random", "json", "logging", "functools", "itertools")


def target_of(body: str) -> str:
    """The reference target of a role body: ``~a.b`` -> ``a.b``, ``text <a.b>`` -> ``a.b``."""
    m = re.search(r"<([^>]+)>\s*$", body)
    return (m.group(1) if m else body).strip().lstrip("~!").rstrip("()")


def documented_member(cls, name: str, exported: dict) -> bool:
    """Whether ``cls``'s page documents member ``name``: defined (with a docstring or a
    ``#:`` comment) in the class or in a base that has no page of its own."""
    for owner in cls.__mro__:
        if owner is not cls and not cr_api.is_hidden(owner, exported):
            continue
        if name in owner.__dict__:
            return bool(own_doc(owner.__dict__[name])) or _has_attr_comment(owner, name) or \
                name in getattr(owner, "__annotations__", {})
    return False


def own_doc(member) -> str | None:
    """A member's own docstring (a property's getter's); None for a plain value, whose
    ``__doc__`` is its type's."""
    if isinstance(member, property):
        return member.fget.__doc__ if member.fget else None
    doc = getattr(member, "__doc__", None)
    return None if doc is getattr(type(member), "__doc__", None) else doc


def _has_attr_comment(owner, name: str) -> bool:
    from sphinx.pycode import ModuleAnalyzer

    try:
        docs = ModuleAnalyzer.for_module(owner.__module__).find_attr_docs()
    except Exception:
        return False
    return (owner.__qualname__, name) in docs


def canonical_names(exported: dict) -> set[str]:
    """Where each exported class is defined (``causalrec.data.templates.TextTemplates``):
    autodoc registers that name as an alias of the documented one."""
    return {f"{obj.__module__}.{obj.__qualname__}" for _, obj in exported.values()
            if inspect.isclass(obj)}


def resolves(target: str, package: str, cls, exported: dict, names: set[str]) -> bool:
    """Sphinx's lookup for a reference written on ``package``'s page inside class ``cls``
    (or None): ``package.cls.target``, ``package.target``, then ``target`` as a full name."""
    if target.startswith(PEERS) or target in vars(builtins):
        return True
    if target.startswith("causalrec."):
        parts = target.split(".")
        if len(parts) <= 2 or cr_api.module_target(target) or cr_api.exported_target(target):
            return True
        if target in canonical_names(exported):  # autodoc's :canonical: name of a class
            return True
        if f"causalrec.{parts[1]}.{parts[2]}" in names:
            obj = getattr(importlib.import_module(f"causalrec.{parts[1]}"), parts[2])
            return len(parts) == 3 or (inspect.isclass(obj) and
                                       documented_member(obj, parts[3], exported))
        return False
    head, _, rest = target.partition(".")
    if cls is not None and not rest and documented_member(cls, head, exported):
        return True
    if f"causalrec.{package}.{head}" in names:
        obj = getattr(importlib.import_module(f"causalrec.{package}"), head)
        return not rest or (inspect.isclass(obj) and "." not in rest
                            and documented_member(obj, rest, exported))
    return False


def rendered_docstrings(exported: dict):
    """``(where, package, class or None, docstring)`` for each exported object and each of
    its members that its page documents."""
    for name, obj in exported.values():
        package = name.split(".")[1]
        yield name, package, None if not inspect.isclass(obj) else obj, obj.__doc__ or ""
        if inspect.isclass(obj):
            for owner in obj.__mro__:
                if owner is not obj and not cr_api.is_hidden(owner, exported):
                    continue
                for member_name, member in vars(owner).items():
                    doc = own_doc(member)
                    if not member_name.startswith("_") and isinstance(doc, str):
                        yield f"{name}.{member_name}", package, obj, doc


@pytest.fixture(scope="module")
def exported():
    return cr_api.exported_objects()


def unresolved(exported: dict) -> list[str]:
    names = {n for n, _ in exported.values()}
    names |= {f"causalrec.{p}.{n}" for p in cr_api.PACKAGES for n in cr_api.exported_names(p)}
    out = []
    for where, package, cls, doc in rendered_docstrings(exported):
        for m in ROLE.finditer(doc):
            target = target_of(m.group("body"))
            if m.group(1) == "mod":
                ok = target.startswith(PEERS) or bool(cr_api.module_target(target)) or \
                    target in {"causalrec", *(f"causalrec.{p}" for p in cr_api.PACKAGES)}
            else:
                ok = resolves(target, package, cls, exported, names)
            if not ok:
                out.append(f"{where}: {m.group(0)}")
    return sorted(set(out))


def test_every_reference_in_a_rendered_docstring_resolves(exported):
    bad = unresolved(exported)
    assert not bad, "references to objects without a page (export the name, or write it " \
                    "as a ``literal``):\n" + "\n".join(bad)


@pytest.mark.parametrize("target, package, cls, ok", [
    ("cluster_intents", "encoders", None, True),                  # an export of the package
    ("causalrec.models.build.build_module", "data", None, True),  # via the defining module
    ("causalrec.data.templates.TextTemplates", "data", None, True),  # a class's canonical name
    ("pandas.DataFrame", "data", None, True),                     # a peer's inventory
    ("update", "recommend", "Recommender", True),                 # from a base without a page
    ("Recommender.recommend", "recommend", None, True),
    ("resolve_alpha", "heads", "ULRMFHead", False),               # unexported helpers ...
    ("DESIGNS", "sim", None, False),
    ("causalrec.sim.semisynthetic.fit_mf", "sim", None, False),
    ("get", "encoders", "TokenStateCache", False),                # documented on its base only
    ("_ratio_counts", "data", None, False),
])
def test_the_lookup_finds_what_sphinx_finds(exported, target, package, cls, ok):
    """Each case is one the nitpicky build resolved or reported."""
    names = {n for n, _ in exported.values()}
    owner = None if cls is None else getattr(importlib.import_module(f"causalrec.{package}"), cls)
    assert resolves(target, package, owner, exported, names) is ok
