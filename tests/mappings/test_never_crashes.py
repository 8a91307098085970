"""Whatever RevOps write, validation answers with messages, never a traceback."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from mappings.loader import load_mapping_text_report
from tests.mappings.sample import sample

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False),
    st.text(max_size=12), st.sampled_from(["Closed Won", "legal", "after_close", "2026-02-30",
                                           "buyer", "US", "Amount", ""]),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=3),
    max_leaves=8,
)


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, child in node.items():
            out += paths(child, (*prefix, key))
    elif isinstance(node, list):
        for i, child in enumerate(node):
            out += paths(child, (*prefix, i))
    return out


ALL_PATHS = paths(sample())


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(ALL_PATHS), values), min_size=1, max_size=4))
def test_any_value_anywhere_gives_messages_not_exceptions(
    changes: list[tuple[tuple[Any, ...], Any]],
) -> None:
    data: Any = sample()
    for path, value in changes:
        target = data
        try:
            for part in path[:-1]:
                target = target[part]
            target[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change replaced the branch this path went through
    report = load_mapping_text_report(yaml.safe_dump(data))
    assert (report.mapping is None) == bool(report.errors)
    assert all(isinstance(e, str) and e for e in report.errors + report.warnings)


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab:- \n\t[]{}'\"#&*!|>%@`,?1"), max_size=60))
def test_any_text_gives_messages_not_exceptions(text: str) -> None:
    report = load_mapping_text_report(text)
    assert report.mapping is None
    assert report.errors
