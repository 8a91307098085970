"""``mapsync demo`` reads well on an 80-column terminal and on a 160-column one."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from rich.console import Console

from sync.cli.demo import run_demo
from sync.cli.demo_tables import distinct_names, shorten

KEY_COLUMNS = ("Opportunity", "Stage", "Health", "%", "Next milestone", "Due")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def demo_output(width: int, state: Path) -> str:
    screen = io.StringIO()
    console = Console(file=screen, width=width, color_system=None, force_terminal=False)
    assert run_demo(console=console, state_dir=state) == 0
    return screen.getvalue()


def plan_rows(out: str) -> tuple[str, list[str]]:
    """The plans table's header and its rows (until the blank line after it)."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Opportunity "))
    rows = []
    for line in lines[start + 2:]:
        if not line.strip():
            break
        rows.append(line)
    return lines[start], rows


@pytest.mark.parametrize("width", [80, 160])
def test_demo_reads_well_at_the_terminals_width(width: int, clean_env: Path) -> None:
    out = demo_output(width, clean_env / "demo")
    too_long = [line for line in out.splitlines() if len(line) > width]
    assert too_long == []
    assert "None" not in out
    header, rows = plan_rows(out)
    for column in KEY_COLUMNS:
        assert column in header.split("  ") or f" {column} " in f" {header} "
    assert ("Projected" in header) is (width >= 110)
    assert ("Target" in header) is (width >= 150)
    assert len(rows) == 40
    assert len(set(rows)) == len(rows)  # no two plans look alike
    names = [row[:header.index("Stage")].strip() for row in rows]
    assert len(set(names)) == len(names)
    for row in rows:
        assert re.search(r"\d+%", row), row
        assert DATE.search(row) or "all done" in row, row
    if width == 80:
        assert any("…" in name for name in names)  # long names are shortened, not wrapped
    else:
        assert "Acme Manufacturing – Onboarding Services" in names
    # what changed is said in words
    assert "slip cause: no slip → " in out or "→ no slip" in out
    assert re.search(r"complete: \d+% → \d+%", out)
    # one plan's milestones, as its rep sees them
    assert "as its rep sees it" in out
    for column in ("Milestone", "Owner", "Due", "Status", "Slipped"):
        assert column in out
    assert re.search(r"(Buyer|Seller|Joint) · ", out)
    assert re.search(r"\d+ days", out)


def test_long_names_lose_their_middle_and_equal_names_are_numbered() -> None:
    assert shorten("Cyberdyne Engineering – Enterprise Agreement", 21) == "Cyberdyne…Agreement"
    assert len(shorten("Cyberdyne Engineering – Enterprise Agreement", 21)) <= 21
    assert shorten("Acme – Pilot", 40) == "Acme – Pilot"
    assert distinct_names(["A", "B", "A", "A"]) == ["A", "B", "A (2)", "A (3)"]
