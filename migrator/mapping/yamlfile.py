"""YAML that remembers where each key was written.

Mapping files are edited by hand, so every validation message must point at a
file and line.  PyYAML's safe loader drops positions and silently keeps the
last of duplicate keys; this loader records the line of every mapping key and
reports duplicates instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from migrator.errors import MappingError


class Located(dict[str, Any]):
    """A YAML mapping with the line (1-based) of each key and of itself."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)


class _Loader(yaml.SafeLoader):
    pass


def load_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MappingError(
            [f"{path}: mapping file not found"],
            remedy="check [mapping] file in migration.toml, or run `migrator init`",
        ) from None
    except UnicodeDecodeError as exc:
        raise MappingError(
            [f"{path}: not UTF-8 (byte {exc.start})"], remedy="save the file as UTF-8"
        ) from None
    problems: list[str] = []

    def construct_mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> Located:
        out = Located()
        out.line = node.start_mark.line + 1
        out.key_lines = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if not isinstance(key, str | int | float | bool) and key is not None:
                problems.append(f"{path}:{line}: key {key!r} must be a plain value")
                continue
            skey = str(key) if key is not None else "null"
            if skey in out:
                problems.append(
                    f"{path}:{line}: key {skey!r} repeats the one on line {out.key_lines[skey]}"
                )
                continue
            out[skey] = loader.construct_object(value_node, deep=True)
            out.key_lines[skey] = line
        return out

    _Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark else 0
        raise MappingError(
            [f"{path}:{line}: YAML syntax: {exc.problem}"],
            remedy="fix the indentation or quoting at that line",
        ) from None
    if problems:
        raise MappingError(problems)
    return data
