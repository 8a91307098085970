"""The milestone dependency graph: cycles to report, and an order to schedule in.

A template's ``depends_on`` lists must form a DAG, or no due date can be computed. Validation
names every cycle the way RevOps read it (``legal -> procurement -> legal``), and the planner
walks milestones in :func:`topological_order`. Edges point from a milestone to the ones it
depends on; nodes keep the order of the file so every answer is deterministic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class CycleError(ValueError):
    """The graph has a cycle; ``cycle`` is one, starting and ending at the same key."""

    def __init__(self, cycle: list[str]) -> None:
        super().__init__("dependency cycle " + " -> ".join(cycle))
        self.cycle = cycle


def find_cycles(edges: Mapping[str, Sequence[str]]) -> list[list[str]]:
    """One cycle per strongly connected group of milestones, in file order.

    Each cycle starts at the group's first milestone in the file and ends where it started,
    e.g. ``["legal", "procurement", "legal"]``. Dependencies on unknown keys are ignored
    (they are reported elsewhere).
    """
    order = {key: i for i, key in enumerate(edges)}
    cycles = []
    for group in _strongly_connected(edges):
        start = min(group, key=order.__getitem__)
        if len(group) == 1 and start not in edges[start]:
            continue
        cycles.append(_cycle_through(start, set(group), edges, order))
    cycles.sort(key=lambda c: order[c[0]])
    return cycles


def topological_order(edges: Mapping[str, Sequence[str]]) -> list[str]:
    """Keys with every dependency before its dependents; file order among equals.

    Raises :class:`CycleError` if there is a cycle.
    """
    cycles = find_cycles(edges)
    if cycles:
        raise CycleError(cycles[0])
    done: set[str] = set()
    out: list[str] = []

    def visit(key: str) -> None:
        # Depth is bounded by the milestone count (a few dozen), so recursion is safe here.
        if key in done:
            return
        done.add(key)
        for dep in edges[key]:
            if dep in edges:
                visit(dep)
        out.append(key)

    for key in edges:
        visit(key)
    return out


def _strongly_connected(edges: Mapping[str, Sequence[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative so a long chain cannot exhaust the stack."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    counter = 0
    for root in edges:
        if root in index:
            continue
        work: list[tuple[str, int]] = [(root, 0)]
        while work:
            node, child = work.pop()
            if child == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            targets = [t for t in edges[node] if t in edges]
            if child < len(targets):
                work.append((node, child + 1))
                target = targets[child]
                if target not in index:
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                groups.append(group)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return groups


def _cycle_through(
    start: str, group: set[str], edges: Mapping[str, Sequence[str]], order: dict[str, int]
) -> list[str]:
    """The shortest way from ``start`` back to itself inside ``group`` (breadth first)."""
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following: list[str] = []
        for node in frontier:
            for target in sorted((t for t in edges[node] if t in group), key=order.__getitem__):
                if target == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [start, *reversed(path[:-1]), start] if node != start else [start, start]
                if target not in previous:
                    previous[target] = node
                    following.append(target)
        frontier = following
    raise AssertionError("a strongly connected group always has a cycle")  # pragma: no cover
