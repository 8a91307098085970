"""The bounds a mapping file must stay within before mapsync reads it at all.

A mapping file is a few kilobytes of stages and milestones, but YAML lets a few hundred bytes
describe billions of values: an anchor used nine times, whose block uses another anchor nine
times, and so on ("billion laughs"). Composing such a file is cheap — aliases are shared nodes —
but every pass that walks the data afterwards (the schema, the cross-checks, the positions of
findings) walks the expansion, and runs out of memory. A file nested a hundred thousand levels
deep overflows the recursive composer instead.

So the composer below counts as it builds and stops at the first value past a bound, with the
line and column where that happened: the file's size is checked before it is read, the number
of aliases and the size of the document with every alias expanded while it is composed, and the
nesting depth before each nested block is entered. An alias to a block that contains it (a
recursive structure) is refused too, since no mapping needs one and every walk would loop.
"""

from __future__ import annotations

from typing import Any

import yaml

#: A mapping file larger than this is refused unread (the shipped default is about 11 KB).
MAX_FILE_BYTES = 1024 * 1024
#: Aliases (``*name``) in one file; anchors are for sharing a milestone or two, not thousands.
MAX_ALIASES = 1_000
#: Values in the document with every alias expanded in place.
MAX_EXPANDED_VALUES = 100_000
#: Blocks inside blocks; a mapping is five levels deep.
MAX_DEPTH = 50


class MappingLimitError(yaml.MarkedYAMLError):
    """The file is past one of the bounds; ``problem_mark`` is where it went past."""

    def __init__(self, problem: str, mark: Any) -> None:
        super().__init__(problem=problem, problem_mark=mark)


def where(mark: Any) -> str:
    """``line L, column C`` (1-based) of ``mark``."""
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark else "line 1, column 1"


def too_large(size: int, text_before_limit: str) -> str:
    """The one-line refusal of a file of ``size`` bytes, located where the bound is crossed."""
    line = text_before_limit.count("\n")
    column = len(text_before_limit) - (text_before_limit.rfind("\n") + 1)
    return (f"the file is {size:,} bytes, more than the {MAX_FILE_BYTES:,} a mapping file may be, "
            f"at line {line + 1}, column {column + 1}")


class BoundedComposer(yaml.composer.Composer):
    """A YAML composer that counts aliases, expanded values and depth as it builds nodes.

    ``expanded`` counts every value as it would appear with aliases written out: each literal
    node adds one, each alias adds the expanded size of the block it names (known once that
    block is complete), so the count is exact and costs one addition per event.
    """

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)  # a loader's __init__ takes the stream; Composer's takes none
        self.aliases = 0
        self.expanded = 0
        self._depth = 0
        self._weights: dict[int, int] = {}  # id(anchored node) -> its expanded size

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()  # type: ignore[attr-defined]  # the Parser, in a loader
        if isinstance(event, yaml.AliasEvent):
            node = super().compose_node(parent, index)
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise MappingLimitError(
                    f"more than {MAX_ALIASES:,} aliases (a mapping file needs a few at most)",
                    event.start_mark)
            weight = self._weights.get(id(node))
            if weight is None:
                raise MappingLimitError(f"the alias *{event.anchor} refers to a block that "
                                        "contains it", event.start_mark)
            self._count(weight, event.start_mark, f" (the alias *{event.anchor} expands to "
                                                  f"{weight:,} values; an alias bomb?)")
            return node
        self._count(1, event.start_mark, "")
        nested = isinstance(event, yaml.CollectionStartEvent)
        if nested:
            self._depth += 1
            if self._depth > MAX_DEPTH:
                raise MappingLimitError(
                    f"blocks nested more than {MAX_DEPTH} deep", event.start_mark)
        before = self.expanded - 1
        node = super().compose_node(parent, index)
        if nested:
            self._depth -= 1
        if getattr(event, "anchor", None) is not None:
            self._weights[id(node)] = self.expanded - before
        return node

    def _count(self, values: int, mark: Any, why: str) -> None:
        self.expanded += values
        if self.expanded > MAX_EXPANDED_VALUES:
            raise MappingLimitError(
                f"more than {MAX_EXPANDED_VALUES:,} values with aliases expanded{why}", mark)
