"""Tasks of the one entry point (``causalrec-train task=NAME``): each is a function
``cfg -> metrics`` in its own module, loaded on first use so a graph study never imports
Lightning. Add a task by adding a module here and a line to :data:`TASKS`."""

from __future__ import annotations

import importlib
from collections.abc import Callable

#: task name -> (module under causalrec.experiment.tasks, function)
TASKS: dict[str, tuple[str, str]] = {
    "train": ("train", "train_recommender"),
    "graph": ("graph", "graph_study"),
    "ope": ("ope", "ope_study"),
    "loop": ("loop", "loop_study"),
}


def get_task(name: str) -> Callable:
    """The task function named ``name``; an unknown name raises naming the known ones."""
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r} (key: task); choose one of {sorted(TASKS)}")
    module, attr = TASKS[name]
    return getattr(importlib.import_module(f"{__name__}.{module}"), attr)
