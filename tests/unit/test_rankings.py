import pandas as pd

from retrofit.rankings import compute_rank_change, rank_values


def test_tied_counties_share_a_rank_and_the_next_rank_is_skipped():
    assert rank_values(pd.Series([0.9, 0.8, 0.8, 0.5])).tolist() == [1, 2, 2, 4]


def test_equal_fractions_tie_exactly():
    assert rank_values(pd.Series([1 / 3, 2 / 6, 0.2])).tolist() == [1, 1, 3]


def test_lower_is_better_ranks_the_smallest_first():
    assert rank_values(pd.Series([0.08, 0.02, 0.05]), higher_is_better=False).tolist() == [3, 1, 2]


def test_county_without_a_task_is_not_ranked():
    ranks = rank_values(pd.Series([0.5, None, 0.7], dtype="float64"))
    assert ranks.iloc[0] == 2 and ranks.iloc[2] == 1 and pd.isna(ranks.iloc[1])


def test_rank_change_counts_places_gained():
    current = pd.Series([1, 3, 2], dtype="Int64")
    previous = pd.Series([3, 1, 2], dtype="Int64")
    assert compute_rank_change(current, previous).tolist() == [2, -2, 0]


def test_rank_change_is_missing_when_there_was_no_previous_rank():
    change = compute_rank_change(pd.Series([1], dtype="Int64"), pd.Series([pd.NA], dtype="Int64"))
    assert pd.isna(change.iloc[0])
