"""Mapping rules: what the agreed spreadsheet of field, status and user changes says, as data.

A mapping is validated completely when it is loaded, and every problem is
reported at once with file, line and key, because a migration lead edits the
file in rounds with two teams and wants one list of what to fix, not one error
per run.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migrator.errors import MappingError
from migrator.mapping.yamlfile import Located, load_yaml

# Target fields whose value comes from a value map.
VALUE_FIELDS = ("tracker", "status", "priority")

# Canonical ticket fields a mapping may read.
SOURCE_FIELDS = (
    "type",
    "status",
    "resolution",
    "priority",
    "severity",
    "milestone",
    "version",
    "components",
    "labels",
    "watchers",
    "parent",
    "closed",
    "updated",
    "history",
    "links",
)
# Fields every mapping carries over by construction (title, text, people, comments, origin).
CARRIED_FIELDS = (
    "title",
    "description",
    "reporter",
    "assignee",
    "comments",
    "attachments",
    "created",
)

_TOP_KEYS = {"version", "target", "values", "users", "preserve", "drop"}


@dataclass(frozen=True)
class Rule:
    when: dict[str, tuple[str, ...]]  # field -> accepted values
    value: str
    line: int

    def matches(self, values: dict[str, str | None]) -> bool:
        return all((values.get(f) or "") in accepted for f, accepted in self.when.items())


@dataclass(frozen=True)
class ValueMap:
    target: str
    source: str
    table: dict[str, str]
    rules: tuple[Rule, ...] = ()
    default: str | None = None

    def reads(self) -> set[str]:
        fields = {self.source}
        for rule in self.rules:
            fields.update(rule.when)
        return fields

    def lookup(self, values: dict[str, str | None]) -> str | None:
        """The target value, or None when nothing maps it (the caller reports it)."""
        for rule in self.rules:
            if rule.matches(values):
                return rule.value
        key = values.get(self.source) or ""
        if key in self.table:
            return self.table[key]
        return self.default


@dataclass(frozen=True)
class Mapping:
    path: Path
    digest: str
    project: str
    values: dict[str, ValueMap]
    users: dict[str, str]
    unmapped_users: str  # "attribute": keep the old name in text | "error"
    preserve: tuple[str, ...]
    drop: tuple[str, ...]
    lines: dict[str, int] = field(default_factory=dict)

    def accounted_fields(self) -> set[str]:
        fields: set[str] = set(CARRIED_FIELDS)
        for vm in self.values.values():
            fields |= vm.reads()
        return fields | set(self.preserve) | set(self.drop)


def _str_list(value: Any) -> tuple[str, ...] | None:
    if isinstance(value, str | int | float):
        return (str(value),)
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return tuple(str(v) for v in value)
    return None


def _known_field(name: str) -> bool:
    return name in SOURCE_FIELDS or name in CARRIED_FIELDS or name.startswith("custom.")


def load_mapping(path: Path) -> Mapping:
    raw = path.read_bytes() if path.exists() else b""
    data = load_yaml(path)
    problems: list[str] = []

    def at(node: Any, key: str | None = None) -> str:
        line = node.line_of(key) if isinstance(node, Located) and key else getattr(node, "line", 0)
        return f"{path}:{line}"

    if not isinstance(data, Located):
        raise MappingError([f"{path}:1: the mapping must be a YAML mapping (key: value lines)"])
    for key in data:
        if key not in _TOP_KEYS:
            problems.append(
                f"{at(data, key)}: unknown key {key!r}; "
                f"expected one of {', '.join(sorted(_TOP_KEYS))}"
            )
    if data.get("version", 1) != 1:
        problems.append(f"{at(data, 'version')}: version must be 1, not {data.get('version')!r}")

    project = ""
    target = data.get("target")
    if not isinstance(target, Located) or not isinstance(target.get("project"), str):
        problems.append(f"{at(data, 'target')}: target.project (the target project) is required")
    else:
        project = target["project"]

    values: dict[str, ValueMap] = {}
    vnode = data.get("values", Located())
    if not isinstance(vnode, Located):
        problems.append(f"{at(data, 'values')}: values must be a mapping of target fields")
        vnode = Located()
    for tfield in VALUE_FIELDS:
        if tfield not in vnode:
            problems.append(f"{at(data, 'values')}: values.{tfield} is required")
    for tfield, spec in vnode.items():
        where = at(vnode, tfield)
        if tfield not in VALUE_FIELDS:
            problems.append(
                f"{where}: values.{tfield}: unknown target field; expected one of "
                f"{', '.join(VALUE_FIELDS)}"
            )
            continue
        if not isinstance(spec, Located):
            problems.append(f"{where}: values.{tfield} must be a mapping with from/map/rules")
            continue
        for k in spec:
            if k not in {"from", "map", "rules", "default"}:
                problems.append(
                    f"{at(spec, k)}: values.{tfield}.{k}: unknown key; expected from, map, "
                    "rules, default"
                )
        source = spec.get("from")
        if not isinstance(source, str) or not _known_field(source):
            problems.append(
                f"{at(spec, 'from')}: values.{tfield}.from: {source!r} is not a source field; "
                f"expected one of {', '.join(SOURCE_FIELDS)} or custom.NAME"
            )
            continue
        table: dict[str, str] = {}
        tnode = spec.get("map", Located())
        if not isinstance(tnode, Located):
            problems.append(f"{at(spec, 'map')}: values.{tfield}.map must be a mapping")
        else:
            for k, v in tnode.items():
                if not isinstance(v, str | int | float):
                    problems.append(
                        f"{at(tnode, k)}: values.{tfield}.map.{k}: target value must be text, "
                        f"not {type(v).__name__}"
                    )
                else:
                    table[k] = str(v)
        rules: list[Rule] = []
        rnode = spec.get("rules", [])
        if not isinstance(rnode, list):
            problems.append(f"{at(spec, 'rules')}: values.{tfield}.rules must be a list")
            rnode = []
        for i, r in enumerate(rnode):
            rwhere = f"{at(r) if isinstance(r, Located) else at(spec, 'rules')}"
            if not isinstance(r, Located) or set(r) != {"when", "value"}:
                problems.append(
                    f"{rwhere}: values.{tfield}.rules[{i}] needs exactly `when` and `value`"
                )
                continue
            when = r["when"]
            if not isinstance(when, Located) or not when:
                problems.append(
                    f"{rwhere}: values.{tfield}.rules[{i}].when must map fields to values"
                )
                continue
            conds: dict[str, tuple[str, ...]] = {}
            for f, accepted in when.items():
                vals = _str_list(accepted)
                if not _known_field(f):
                    problems.append(f"{at(when, f)}: rules[{i}].when.{f}: not a source field")
                elif vals is None:
                    problems.append(f"{at(when, f)}: rules[{i}].when.{f}: expected a value or list")
                else:
                    conds[f] = vals
            if not isinstance(r["value"], str):
                problems.append(f"{at(r, 'value')}: rules[{i}].value must be text")
                continue
            rules.append(Rule(conds, r["value"], r.line))
        default = spec.get("default")
        if default is not None and not isinstance(default, str):
            problems.append(f"{at(spec, 'default')}: values.{tfield}.default must be text")
            default = None
        values[tfield] = ValueMap(tfield, source, table, tuple(rules), default)

    users: dict[str, str] = {}
    unmapped_users = "attribute"
    unode = data.get("users", Located())
    if not isinstance(unode, Located):
        problems.append(f"{at(data, 'users')}: users must be a mapping with map/unmapped")
    else:
        for k in unode:
            if k not in {"map", "unmapped"}:
                problems.append(f"{at(unode, k)}: users.{k}: unknown key; expected map, unmapped")
        umap = unode.get("map", Located())
        if not isinstance(umap, Located):
            problems.append(f"{at(unode, 'map')}: users.map must map old logins to new ones")
        else:
            for k, v in umap.items():
                if v is not None and not isinstance(v, str):
                    problems.append(f"{at(umap, k)}: users.map.{k}: new login must be text or null")
                elif v:
                    users[k] = v
        unmapped_users = unode.get("unmapped", "attribute")
        if unmapped_users not in {"attribute", "error"}:
            problems.append(
                f"{at(unode, 'unmapped')}: users.unmapped must be attribute or error, "
                f"not {unmapped_users!r}"
            )

    lists: dict[str, tuple[str, ...]] = {}
    for key in ("preserve", "drop"):
        node = data.get(key, [])
        names = _str_list(node) if node != [] else ()
        if names is None:
            problems.append(f"{at(data, key)}: {key} must be a list of source fields")
            names = ()
        for name in names:
            if not _known_field(name):
                problems.append(
                    f"{at(data, key)}: {key}: {name!r} is not a source field; expected one of "
                    f"{', '.join(SOURCE_FIELDS)} or custom.NAME"
                )
        lists[key] = names
    both = sorted(set(lists["preserve"]) & set(lists["drop"]))
    if both:
        problems.append(f"{at(data, 'drop')}: {', '.join(both)} listed in both preserve and drop")

    if problems:
        raise MappingError(problems)
    return Mapping(
        path=path,
        digest=hashlib.sha256(raw).hexdigest(),
        project=project,
        values=values,
        users=users,
        unmapped_users=unmapped_users,
        preserve=lists["preserve"],
        drop=lists["drop"],
        lines=dict(data.key_lines),
    )
