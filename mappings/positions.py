"""Where each part of a mapping file is, so its findings read from top to bottom.

Schema errors and cross-check findings are produced in separate passes; sorting them by the
line of the value they point at lets RevOps walk through the file once, fixing as they go.

A block reached again through an alias is not walked again: its values are where the anchor
wrote them, and a finding under the alias is placed at the alias itself. Walking the expansion
would cost as much as the alias bomb it is (see ``mappings/limits.py``).
"""

from __future__ import annotations

import re

import yaml

Path_ = tuple[str | int, ...]

_LINE = re.compile(r"^line (\d+), column (\d+): ")
_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def node_positions(node: yaml.Node | None) -> dict[Path_, tuple[int, int]]:
    """(line, column), 0-based, of every value in the composed YAML, by its path."""
    positions: dict[Path_, tuple[int, int]] = {}
    walked: set[int] = set()  # id() of every collection walked, so an alias is walked once

    def walk(current: yaml.Node, path: Path_) -> None:
        if isinstance(current, yaml.CollectionNode):
            if id(current) in walked:
                return
            walked.add(id(current))
        if isinstance(current, yaml.MappingNode):
            for key_node, value_node in current.value:
                if isinstance(key_node, yaml.ScalarNode):
                    child = (*path, key_node.value)
                    positions.setdefault(child, _mark(key_node))
                    walk(value_node, child)
        elif isinstance(current, yaml.SequenceNode):
            for i, item in enumerate(current.value):
                positions.setdefault((*path, i), _mark(item))
                walk(item, (*path, i))

    if node is not None:
        positions[()] = _mark(node)
        walk(node, ())
    return positions


def in_file_order(messages: list[str], positions: dict[Path_, tuple[int, int]]) -> list[str]:
    """``messages`` sorted by where they point in the file; ties keep their order."""
    end = (1 << 30, 0)

    def place(message: str) -> tuple[int, int]:
        line = _LINE.match(message)
        if line:
            return int(line.group(1)) - 1, int(line.group(2)) - 1
        where = message.split(": ", 1)[0].split(" (", 1)[0]
        if where == "(file)":
            return (-1, 0)
        path = parse_location(where)
        while path:
            if path in positions:
                return positions[path]
            path = path[:-1]
        return end

    return sorted(messages, key=place)


def parse_location(where: str) -> Path_:
    """``templates[1].milestones[3].side`` → ``('templates', 1, 'milestones', 3, 'side')``."""
    return tuple(int(index) if index else name for name, index in _PART.findall(where))


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line, node.start_mark.column
