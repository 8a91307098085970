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
        if message.split(": ", 1)[0] == "(file)":
            return (-1, 0)
        found = locate(message, positions)
        return end if found is None else found

    return sorted(messages, key=place)


def locate(message: str, positions: dict[Path_, tuple[int, int]]) -> tuple[int, int] | None:
    """(line, column), 0-based, of the value ``message`` points at; ``None`` if it names none.

    A message starts either with ``line N, column M: `` (YAML syntax, keys written twice) or
    with the path of the value (``templates[1].milestones[3].side: ...``); a path the file
    does not hold (a missing field) points at the nearest enclosing value that it does.
    """
    line = _LINE.match(message)
    if line:
        return int(line.group(1)) - 1, int(line.group(2)) - 1
    where = message.split(": ", 1)[0].split(" (", 1)[0]
    if where == "(file)":
        return None
    path = parse_location(where)
    while path:
        if path in positions:
            return positions[path]
        path = path[:-1]
    return None


def with_location(source: str, message: str, positions: dict[Path_, tuple[int, int]],
                  severity: str = "") -> str:
    """``file:line:column: message``, the form editors and CI annotations jump to.

    A message that names no value of the file (an empty file, an unreadable one) points at
    its first line.
    """
    found = locate(message, positions)
    line, column = (found[0] + 1, found[1] + 1) if found is not None else (1, 1)
    label = f"{severity}: " if severity else ""
    return f"{source}:{line}:{column}: {label}{_LINE.sub('', message, count=1)}"


def parse_location(where: str) -> Path_:
    """``templates[1].milestones[3].side`` → ``('templates', 1, 'milestones', 3, 'side')``."""
    return tuple(int(index) if index else name for name, index in _PART.findall(where))


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line, node.start_mark.column
