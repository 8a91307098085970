"""A hostile mapping file is refused in one line, in bounded memory, never walked in full.

The alias bomb and the deep nesting run in a child process with its address space capped, so
a regression fails the test with a MemoryError or RecursionError instead of taking the machine
down; its peak memory is read from the kernel (``wait4``) and from ``tracemalloc``.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import yaml

from mappings.limits import MAX_ALIASES, MAX_FILE_BYTES
from mappings.loader import load_mapping_report, load_mapping_text_report
from mappings.positions import node_positions
from tests.mappings.sample import sample

MB = 1024 * 1024
CHILD_ADDRESS_SPACE = 2048 * MB  # a regression hits MemoryError here, not the machine's RAM
CHILD_CPU_SECONDS = 120  # ... and is killed after this much CPU, however busy the machine


def alias_bomb(levels: int = 9) -> str:
    """The classic "billion laughs": 342 bytes that expand to 9**9 strings."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, levels):
        name, inner = chr(ord("a") + i), chr(ord("a") + i - 1)
        lines.append(f"{name}: &{name} [{','.join([f'*{inner}'] * 9)}]")
    return "\n".join(lines) + "\n"


def run_child(args: list[str], tmp_path: Path) -> tuple[int, str, str, int]:
    """Run ``python args`` with memory and CPU capped: exit code, stdout, stderr, peak RSS.

    The peak (bytes) is the kernel's count for this one child, read with ``wait4``.
    """

    def cap() -> None:  # pragma: no cover - runs in the child
        resource.setrlimit(resource.RLIMIT_AS, (CHILD_ADDRESS_SPACE, CHILD_ADDRESS_SPACE))
        resource.setrlimit(resource.RLIMIT_CPU, (CHILD_CPU_SECONDS, CHILD_CPU_SECONDS))

    out_path, err_path = tmp_path / "child.out", tmp_path / "child.err"
    with out_path.open("w") as out, err_path.open("w") as err:
        child = subprocess.Popen(
            [sys.executable, *args], stdout=out, stderr=err, preexec_fn=cap,
            env={**os.environ, "MAPSYNC_MAPPINGS": ""}, cwd=tmp_path,
        )
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
    return child.returncode, out_path.read_text(), err_path.read_text(), usage.ru_maxrss * 1024


VALIDATE = ["-c", "from sync.cli import main; main()", "mappings", "validate"]


def test_an_alias_bomb_is_one_line_and_exit_1_in_bounded_memory(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(sample(), sort_keys=False))
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(alias_bomb())
    assert bomb.stat().st_size == 342

    code, _, err, baseline = run_child([*VALIDATE, str(good)], tmp_path)
    assert code == 0, err
    code, _, err, peak = run_child([*VALIDATE, str(bomb)], tmp_path)
    assert err.splitlines() == [
        f"mapsync: {bomb}: more than 100,000 values with aliases expanded (the alias *e expands "
        "to 66,430 values; an alias bomb?) at line 6, column 8"
    ]
    assert code == 1
    assert peak - baseline < 100 * MB  # than validating a good file


def test_the_loader_stops_the_alias_bomb_within_100_mb_of_python_memory(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(alias_bomb())
    code, out, err, _ = run_child(["-c", (
        "import sys, tracemalloc\n"
        "from pathlib import Path\n"
        "from mappings.loader import load_mapping_report\n"
        "tracemalloc.start()\n"
        "report = load_mapping_report(Path(sys.argv[1]))\n"
        "print(tracemalloc.get_traced_memory()[1], report.refused, len(report.errors))\n"
    ), str(bomb)], tmp_path)
    assert code == 0, err
    peak, refused, errors = out.split()
    assert (refused, errors) == ("True", "1")
    assert int(peak) < 100 * MB


def test_nesting_100000_deep_is_one_line_not_a_recursion_error(tmp_path: Path) -> None:
    deep = tmp_path / "deep.yaml"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    code, _, err, _ = run_child([*VALIDATE, str(deep)], tmp_path)
    assert err.splitlines() == [f"mapsync: {deep}: blocks nested more than 50 deep at line 1, "
                                "column 51"]
    assert code == 1


def test_a_file_over_the_size_cap_is_refused_unparsed(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("version: 1\n# padding\n" + "#" * MAX_FILE_BYTES + "\n")
    report = load_mapping_report(big)
    assert report.refused
    assert report.errors == [
        f"the file is {MAX_FILE_BYTES + 22:,} bytes, more than the {MAX_FILE_BYTES:,} a mapping "
        f"file may be, at line 3, column {MAX_FILE_BYTES - 20}"
    ]


def test_more_aliases_than_the_cap_are_refused_where_the_cap_is_crossed() -> None:
    text = "version: 1\nx: &x 1\nstages:\n" + "".join("  - *x\n" for _ in range(MAX_ALIASES + 1))
    report = load_mapping_text_report(text)
    assert report.refused
    assert report.errors == [f"more than 1,000 aliases (a mapping file needs a few at most) at "
                             f"line {MAX_ALIASES + 4}, column 5"]


def test_an_alias_to_its_own_block_is_refused_not_walked_forever() -> None:
    report = load_mapping_text_report("version: 1\nstages: &s [Prospecting, *s]\n")
    assert report.refused
    assert report.errors == ["the alias *s refers to a block that contains it at line 2, "
                             "column 26"]


def test_a_file_using_a_few_aliases_still_loads() -> None:
    text = yaml.safe_dump(sample(), sort_keys=False).replace(
        "role: Legal", "role: &legal Legal").replace("role: Procurement", "role: *legal")
    report = load_mapping_text_report(text)
    assert report.errors == []
    assert not report.refused
    assert report.mapping is not None
    assert report.mapping.templates[0].milestones[2].role == "Legal"


def test_positions_walk_an_aliased_block_once() -> None:
    node = yaml.compose(alias_bomb(levels=5))  # 9**5 strings once expanded
    positions = node_positions(node)
    literal_values = 9 + 4 * 9 + 5 * 2  # as written: scalars, aliases, keys and blocks
    assert len(positions) <= literal_values
    # a path below an alias is not listed; a finding there is placed at the alias
    assert ("e", 0) in positions
    assert ("e", 0, 0) not in positions
