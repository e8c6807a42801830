"""Which logged rows come from a randomized (treatment / MCAR) policy.

CausE and the Naive Bayes propensity need to tell the small randomized sample apart from
the rows the production policy logged. The data marks them in a column (by default
``policy == "random"``; RecBole-Debias's ``intervene_mask`` maps to a boolean column).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def randomized_mask(df: pd.DataFrame, column: str, value) -> np.ndarray:
    """Boolean mask of the rows with ``df[column] == value`` (all False if no such column)."""
    if column not in df.columns:
        return np.zeros(len(df), dtype=bool)
    col = df[column]
    if isinstance(value, bool) or pd.api.types.is_bool_dtype(col):
        return col.astype(bool).to_numpy() == bool(value)
    if pd.api.types.is_numeric_dtype(col) and not isinstance(value, str):
        return (col.to_numpy() == value)
    return (col.astype(str) == str(value)).to_numpy()
