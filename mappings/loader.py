"""Loading the stage mapping file RevOps edit, with every problem reported at once.

A mapping file is read in three passes, and all three always run so one validation lists
everything to fix: YAML syntax (with line and column), the schema (``mappings/model.py``,
errors translated by ``mappings/messages.py``) and the cross-checks (``mappings/validate.py``).
Only an unsupported ``version`` stops early, because a file of another version would drown
its one real problem in findings that do not apply. A file past the bounds of
``mappings/limits.py`` (size, aliases, nesting) is refused before anything walks it: one
problem, with the line and column where the bound was crossed, and ``refused`` set.

The shipped default mapping is package data next to this module, so every command finds it
wherever it runs from; ``MAPSYNC_MAPPINGS`` points elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, NamedTuple

import yaml
from pydantic import ValidationError

from config.errors import MappingError
from mappings.limits import (
    MAX_FILE_BYTES,
    BoundedComposer,
    MappingLimitError,
    too_large,
    where,
)
from mappings.messages import schema_problems
from mappings.model import SUPPORTED_VERSIONS, StageMapping
from mappings.positions import Path_, in_file_order, node_positions
from mappings.validate import cross_check

DEFAULT_MAPPING_FILE = "default.yaml"


class MappingReport(NamedTuple):
    """The outcome of loading a mapping: the mapping when there are no errors."""

    mapping: StageMapping | None
    errors: list[str]
    warnings: list[str]
    #: The file is past a bound (too big, an alias bomb, nested too deep) and was not read
    #: further; ``errors`` then holds that one problem.
    refused: bool = False


def default_mapping_path() -> Path:
    """The mapping shipped with mapsync (Salesforce's standard Opportunity stages)."""
    return Path(__file__).resolve().with_name(DEFAULT_MAPPING_FILE)


def resolve_mapping_path(explicit: Path | None, env: Path | None) -> Path:
    """The mapping file to use: the one named on the command line, else ``MAPSYNC_MAPPINGS``,
    else the shipped default."""
    if explicit is not None:
        return explicit
    if env is not None and str(env).strip() not in ("", "."):  # MAPSYNC_MAPPINGS= means unset
        return env
    return default_mapping_path()


def load_mapping(path: Path) -> StageMapping:
    """The mapping in ``path``; raises :class:`MappingError` listing every problem."""
    report = load_mapping_report(path)
    return _or_raise(report.mapping, report.errors, str(path))


def load_mapping_text(text: str, source: str = "<text>") -> StageMapping:
    """The mapping in ``text``; raises :class:`MappingError` listing every problem."""
    report = load_mapping_text_report(text)
    return _or_raise(report.mapping, report.errors, source)


def load_mapping_report(path: Path) -> MappingReport:
    """Load ``path`` without raising: the mapping (``None`` if any error), errors, warnings."""
    try:
        with Path(path).open("rb") as stream:
            raw = stream.read(MAX_FILE_BYTES + 1)  # never more, however large the file
            size = max(len(raw), os.fstat(stream.fileno()).st_size)
        if size > MAX_FILE_BYTES:
            head = raw[:MAX_FILE_BYTES].decode("utf-8", errors="replace")
            return MappingReport(None, [too_large(size, head)], [], refused=True)
        text = raw.decode("utf-8")
    except FileNotFoundError:
        return MappingReport(None, [f"cannot read {path}: no such file"], [])
    except IsADirectoryError:
        return MappingReport(None, [f"cannot read {path}: it is a directory"], [])
    except UnicodeDecodeError:
        return MappingReport(None, [f"cannot read {path}: not UTF-8 text"], [])
    except OSError as err:
        return MappingReport(None, [f"cannot read {path}: {err.strerror or err}"], [])
    return load_mapping_text_report(text)


def load_mapping_text_report(text: str) -> MappingReport:
    """Load YAML ``text`` without raising: the mapping (``None`` if any error), errors, warnings."""
    size = len(text.encode("utf-8", errors="replace"))
    if size > MAX_FILE_BYTES:
        head = text.encode("utf-8", errors="replace")[:MAX_FILE_BYTES].decode(errors="replace")
        return MappingReport(None, [too_large(size, head)], [], refused=True)
    try:
        data, errors, positions = parse_yaml(text)
    except MappingLimitError as err:
        return MappingReport(None, [f"{err.problem} at {where(err.problem_mark)}"], [],
                             refused=True)
    if data is None and errors:
        return MappingReport(None, errors, [])
    if not isinstance(data, dict):
        shape = "empty" if data in ("", None) else f"a {type(data).__name__}, not a mapping"
        return MappingReport(None, [*errors, f"(file): the file is {shape}; it starts with "
                                    "version:, stages:, create_at:, ... and templates:"], [])
    version = data.get("version")
    if isinstance(version, int) and not isinstance(version, bool) and (
        version not in SUPPORTED_VERSIONS
    ):
        # Another version's schema would only add findings that do not apply to it.
        return MappingReport(None, [*errors, *_version_problem(version)], [])
    mapping: StageMapping | None = None
    try:
        mapping = StageMapping.model_validate(data)
    except ValidationError as err:
        errors.extend(schema_problems(err))
    findings = cross_check(data)
    errors = in_file_order([*errors, *findings.errors], positions)
    warnings = in_file_order(findings.warnings, positions)
    return MappingReport(None if errors else mapping, errors, warnings)


def parse_yaml(text: str) -> tuple[Any, list[str], dict[Path_, tuple[int, int]]]:
    """The plain data of ``text``, its problems and where each value is in the text.

    Data is ``None`` if the text cannot be parsed. Dates stay text (the schema reads them, so
    ``2025-02-30`` is a located error, not a crash), and a key written twice in one mapping is
    an error instead of the last one silently winning. Raises :class:`MappingLimitError`
    when the text is past a bound of ``mappings/limits.py``.
    """
    if not text.strip():
        return "", [], {}
    loader = _MappingLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except MappingLimitError:
        raise
    except yaml.MarkedYAMLError as err:
        return None, [_yaml_problem(err)], {}
    except yaml.YAMLError as err:
        return None, [f"(file): not valid YAML: {err}"], {}
    finally:
        loader.dispose()
    return data, list(loader.problems), node_positions(node)


class _MappingLoader(BoundedComposer, yaml.SafeLoader):
    """Safe YAML within bounds, without timestamp conversion, noting keys written twice."""

    yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.problems: list[str] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:  # an unhashable key; the base constructor reports it
                continue
            if duplicate:
                mark = key_node.start_mark
                self.problems.append(
                    f"line {mark.line + 1}, column {mark.column + 1}: {key!r} is written twice "
                    "in the same block; keep one"
                )
        return super().construct_mapping(node, deep=deep)


def _yaml_problem(err: yaml.MarkedYAMLError) -> str:
    mark = err.problem_mark or err.context_mark
    where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(file)"
    problem = err.problem or "not valid YAML"
    hint = " (indent with spaces, not tabs)" if "'\\t'" in problem else ""
    context = f" ({err.context})" if err.context else ""
    return f"{where}: YAML syntax error: {problem}{context}{hint}"


def _version_problem(version: int) -> list[str]:
    try:
        StageMapping.model_validate({"version": version})
    except ValidationError as err:
        return [p for p in schema_problems(err) if p.startswith("version:")]
    return []  # pragma: no cover - only called for unsupported versions


def _or_raise(mapping: StageMapping | None, errors: list[str], source: str) -> StageMapping:
    if mapping is None:
        raise MappingError(f"invalid stage mapping {source}: " + "; ".join(errors),
                           problems=errors)
    return mapping
