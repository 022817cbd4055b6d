"""Model classes written out by hand behave as the dataclasses they replace."""

from __future__ import annotations

import copy
import dataclasses
import itertools
import pickle

import pytest

from reconciler.model import RESET, Origin, ResetToDefault


@dataclasses.dataclass(frozen=True, order=True)
class DataclassOrigin:
    """What ``Origin`` was: the reference its hand-written methods must match."""

    file: str
    line: int
    col: int


SAMPLES = [("a.yaml", 1, 1), ("a.yaml", 1, 2), ("a.yaml", 2, 1), ("b.yaml", 1, 1), ("a.yaml", 1, 1)]


def test_origin_equality_hash_and_order_are_the_dataclass_ones() -> None:
    for x, y in itertools.product(SAMPLES, repeat=2):
        ours, theirs = (Origin(*x), Origin(*y)), (DataclassOrigin(*x), DataclassOrigin(*y))
        assert (ours[0] == ours[1]) == (theirs[0] == theirs[1])
        assert (ours[0] != ours[1]) == (theirs[0] != theirs[1])
        assert (ours[0] < ours[1]) == (theirs[0] < theirs[1])
        assert (ours[0] <= ours[1]) == (theirs[0] <= theirs[1])
        assert (ours[0] > ours[1]) == (theirs[0] > theirs[1])
        assert (ours[0] >= ours[1]) == (theirs[0] >= theirs[1])
        assert hash(ours[0]) == hash(theirs[0])
    assert sorted(Origin(*s) for s in SAMPLES) == [Origin(*s) for s in sorted(SAMPLES)]
    assert len({Origin(*s) for s in SAMPLES}) == len(set(SAMPLES))


def test_origin_compares_only_with_origins() -> None:
    origin = Origin("a.yaml", 1, 1)
    assert origin != ("a.yaml", 1, 1)
    assert origin != DataclassOrigin("a.yaml", 1, 1)
    with pytest.raises(TypeError):
        _ = origin < ("a.yaml", 1, 2)  # type: ignore[operator]


def test_origin_is_immutable_and_reads_like_the_dataclass() -> None:
    origin = Origin("a.yaml", 3, 7)
    with pytest.raises(dataclasses.FrozenInstanceError):
        origin.line = 4
    with pytest.raises(dataclasses.FrozenInstanceError):
        del origin.col
    assert repr(origin) == repr(DataclassOrigin("a.yaml", 3, 7)).replace(
        "DataclassOrigin", "Origin"
    )
    assert str(origin) == "a.yaml:3:7"
    assert Origin(file="a.yaml", line=3, col=7) == origin
    assert copy.deepcopy(origin) == origin
    assert pickle.loads(pickle.dumps(origin)) == origin
    match origin:
        case Origin(file, line, col):
            assert (file, line, col) == ("a.yaml", 3, 7)


@dataclasses.dataclass(frozen=True)
class DataclassReset:
    """What ``ResetToDefault`` was."""


def test_reset_marker_behaves_as_the_frozen_dataclass() -> None:
    assert RESET == ResetToDefault() == RESET
    assert hash(RESET) == hash(ResetToDefault()) == hash(DataclassReset())
    assert DataclassReset() != RESET  # a reset equals only a reset
    assert RESET != "RESET"
    assert repr(RESET) == "RESET"
    with pytest.raises(dataclasses.FrozenInstanceError):
        RESET.anything = 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        del RESET.anything  # type: ignore[attr-defined]
    assert copy.deepcopy(RESET) == RESET
    assert pickle.loads(pickle.dumps(RESET)) == RESET
