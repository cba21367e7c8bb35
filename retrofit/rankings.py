"""Ranking counties: competition ranks with ties shared (1, 2, 2, 4), rank change since the
previous report, counties without a task left unranked."""
import pandas as pd


def rank_values(values: pd.Series, higher_is_better: bool = True) -> pd.Series:
    """Competition rank of each value (best = 1, equal values share the better rank, the next
    rank skips); missing values get no rank (<NA>)."""
    return values.rank(method="min", ascending=not higher_is_better, na_option="keep").astype("Int64")


def compute_rank_change(current: pd.Series, previous: pd.Series) -> pd.Series:
    """Places gained since the previous report (+ moved up ↑, − moved down ↓); <NA> when
    either rank is missing. Both series are indexed alike (by county)."""
    return (previous.astype("Int64") - current.astype("Int64")).astype("Int64")

