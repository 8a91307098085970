"""Dependency cycles are named as RevOps read them; acyclic plans get a schedulable order."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mappings.graph import CycleError, find_cycles, topological_order


def test_a_two_step_cycle_is_named_from_its_first_milestone_in_the_file() -> None:
    edges = {"discovery": [], "procurement": ["legal"], "legal": ["procurement", "discovery"]}
    assert find_cycles(edges) == [["procurement", "legal", "procurement"]]


def test_each_separate_cycle_is_reported_once() -> None:
    edges = {"a": ["b"], "b": ["a"], "c": ["c"], "d": ["e"], "e": ["f"], "f": ["d"], "g": ["a"]}
    assert find_cycles(edges) == [["a", "b", "a"], ["c", "c"], ["d", "e", "f", "d"]]


def test_the_shortest_way_round_is_shown_when_a_group_has_several_loops() -> None:
    edges = {"a": ["b", "c"], "b": ["c"], "c": ["a"]}
    assert find_cycles(edges) == [["a", "c", "a"]]


def test_dependencies_on_unknown_keys_are_left_to_other_checks() -> None:
    assert find_cycles({"a": ["missing"]}) == []
    assert topological_order({"a": ["missing"], "b": ["a"]}) == ["a", "b"]


def test_a_long_chain_does_not_exhaust_the_stack() -> None:
    edges = {f"m{i}": [f"m{i + 1}"] for i in range(5000)}
    edges["m5000"] = ["m0"]
    (cycle,) = find_cycles(edges)
    assert len(cycle) == 5002
    assert cycle[0] == cycle[-1] == "m0"


def test_topological_order_refuses_a_cycle() -> None:
    with pytest.raises(CycleError) as caught:
        topological_order({"legal": ["procurement"], "procurement": ["legal"]})
    assert caught.value.cycle == ["legal", "procurement", "legal"]
    assert str(caught.value) == "dependency cycle legal -> procurement -> legal"


def test_topological_order_keeps_file_order_among_independent_steps() -> None:
    edges = {"signature": ["legal", "procurement"], "legal": [], "procurement": [], "kickoff": []}
    assert topological_order(edges) == ["legal", "procurement", "signature", "kickoff"]


@st.composite
def dags(draw: st.DrawFn) -> dict[str, list[str]]:
    """Random DAGs: each node depends only on nodes with a higher number, listed in any order."""
    size = draw(st.integers(min_value=1, max_value=25))
    names = [f"m{i}" for i in range(size)]
    edges = {
        name: draw(st.lists(st.sampled_from(names[i + 1:]), unique=True)) if i + 1 < size else []
        for i, name in enumerate(names)
    }
    order = draw(st.permutations(names))
    return {name: edges[name] for name in order}


@settings(max_examples=60)
@given(dags())
def test_every_dependency_comes_before_its_dependent(edges: dict[str, list[str]]) -> None:
    assert find_cycles(edges) == []
    order = topological_order(edges)
    assert sorted(order) == sorted(edges)
    position = {key: i for i, key in enumerate(order)}
    assert all(position[dep] < position[key] for key, deps in edges.items() for dep in deps)


@settings(max_examples=60)
@given(dags(), st.data())
def test_closing_any_path_back_is_found_as_a_cycle(
    edges: dict[str, list[str]], data: st.DataObject
) -> None:
    source = data.draw(st.sampled_from(sorted(k for k, v in edges.items() if v) or ["none"]))
    if source == "none":
        return
    target = data.draw(st.sampled_from(edges[source]))
    edges[target] = [*edges[target], source]
    cycles = find_cycles(edges)
    assert cycles
    for cycle in cycles:
        assert cycle[0] == cycle[-1]
        assert all(b in edges[a] for a, b in itertools.pairwise(cycle))
