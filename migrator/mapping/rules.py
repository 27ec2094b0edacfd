"""Mapping rules: what the agreed spreadsheet of field, status and user changes says, as data.

A mapping is validated completely when it is loaded, and every problem is
reported at once with file, line and key, because a migration lead edits the
file in rounds with two teams and wants one list of what to fix, not one error
per run.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migrator.errors import MappingError
from migrator.mapping.yamlfile import Located, load_yaml

# Target fields whose value comes from a value map; the first three are required.
REQUIRED_VALUES = ("tracker", "status", "priority")
# Issue attributes a target may set, each normalised at plan time (see engine.ATTRIBUTES):
# a private ticket that arrives public is a leak, and dates and effort are data.
ATTRIBUTE_VALUES = ("private", "start_date", "due_date", "done_ratio", "estimated_hours")
# "project" routes tickets to other projects than target.project (e.g. component: docs).
VALUE_FIELDS = (*REQUIRED_VALUES, "category", "version", "project", *ATTRIBUTE_VALUES)
MARKUPS = ("plain", "trac", "textile", "markdown", "jira")
# How field-change history reaches the target: not at all, or as short lists in journals.
HISTORY_RENDERS = ("none", "compact")

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
    "links",  # relations, loaded in a second pass once both ends exist
    "parent",
)
# Redmine's default closed statuses: a target that refuses open subtasks under them.
DEFAULT_CLOSED = ("Closed", "Rejected")
# Names a template may use besides the source fields.
TEMPLATE_NAMES = ("id", "origin", "project")

_TOP_KEYS = {
    "version",
    "target",
    "values",
    "custom_fields",
    "templates",
    "users",
    "text",
    "preserve",
    "drop",
    "hook",
    "history",
}
_VALUE_KEYS = {"from", "map", "rules", "default", "keep", "template"}
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_.]*)\}")

Hook = Callable[[dict[str, Any], dict[str, Any]], Any]


@dataclass(frozen=True)
class Rule:
    when: dict[str, tuple[str, ...]]  # field -> accepted values
    value: str
    line: int

    def matches(self, values: dict[str, str | None]) -> bool:
        return all((values.get(f) or "") in accepted for f, accepted in self.when.items())


@dataclass(frozen=True)
class ValueMap:
    """How one target field gets its value: rules, then the table, then default/keep."""

    target: str
    source: str | None
    table: dict[str, str]
    rules: tuple[Rule, ...] = ()
    default: str | None = None
    keep: bool = False  # values not in the table pass through unchanged
    template: str | None = None

    def reads(self) -> set[str]:
        fields = {self.source} if self.source else set()
        for rule in self.rules:
            fields.update(rule.when)
        if self.template:
            fields.update(n for n in _PLACEHOLDER.findall(self.template) if n not in TEMPLATE_NAMES)
        return fields

    def lookup(self, values: dict[str, str | None]) -> str | None:
        """The target value, or None when nothing maps it (the caller reports it)."""
        for rule in self.rules:
            if rule.matches(values):
                return rule.value
        if self.template is not None:
            return render_template(self.template, values)
        key = values.get(self.source or "") or ""
        if key in self.table:
            return self.table[key]
        if self.keep or (not self.table and not self.rules and self.default is None):
            return key or None
        return self.default

    @property
    def optional(self) -> bool:
        """Empty source values are fine for optional fields (category, custom fields)."""
        return self.target not in REQUIRED_VALUES


def render_template(template: str, values: dict[str, str | None]) -> str:
    """``{field}`` placeholders only: no attribute access, no format specs, no code."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1)) or "", template)


@dataclass(frozen=True)
class HistoryRendering:
    """Whether, and which of, the source's field changes are written into the journals."""

    render: str = "none"  # one of HISTORY_RENDERS
    fields: tuple[str, ...] | None = None  # source field names; None: every field

    def shows(self, name: str) -> bool:
        return self.fields is None or name in self.fields


@dataclass(frozen=True)
class Mapping:
    path: Path
    digest: str
    project: str
    values: dict[str, ValueMap]
    custom_fields: dict[str, ValueMap]
    users: dict[str, str]
    unmapped_users: str  # "attribute": keep the old name in text | "error"
    preserve: tuple[str, ...]
    drop: tuple[str, ...]
    fallback_user: str | None = None  # acts for unmapped people (still named in the text)
    closed_statuses: tuple[str, ...] = ()
    subject_template: str | None = None
    markup_to: str | None = None  # None: keep the source markup as written
    neutralize_mentions: bool = True
    live_mentions: bool = True  # mapped @logins stay mentions (text.mentions: all defuses them)
    old_urls: tuple[str, ...] = ()
    rewrite_references: bool = True  # "#12" -> the new tracker's number, at load time
    hook: Hook | None = None
    history: HistoryRendering = field(default_factory=HistoryRendering)
    lines: dict[str, int] = field(default_factory=dict)

    def all_value_maps(self) -> list[ValueMap]:
        return [*self.values.values(), *self.custom_fields.values()]

    def accounted_fields(self) -> set[str]:
        fields: set[str] = set(CARRIED_FIELDS)
        for vm in self.all_value_maps():
            fields |= vm.reads()
        if self.subject_template:
            fields |= set(_PLACEHOLDER.findall(self.subject_template))
        if self.history.render != "none":
            fields.add("history")
        return fields | set(self.preserve) | set(self.drop)


def _str_list(value: Any) -> tuple[str, ...] | None:
    if isinstance(value, str | int | float):
        return (str(value),)
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return tuple(str(v) for v in value)
    return None


def _known_field(name: str) -> bool:
    return name in SOURCE_FIELDS or name in CARRIED_FIELDS or name.startswith("custom.")


class _Loader:
    """Collects every problem of one mapping file instead of stopping at the first."""

    def __init__(self, path: Path):
        self.path = path
        self.problems: list[str] = []

    def at(self, node: Any, key: str | None = None) -> str:
        if isinstance(node, Located) and key is not None:
            return f"{self.path}:{node.line_of(key)}"
        return f"{self.path}:{getattr(node, 'line', 0)}"

    def problem(self, node: Any, key: str | None, text: str) -> None:
        self.problems.append(f"{self.at(node, key)}: {text}")

    def placeholders(self, node: Any, key: str, template: str, label: str) -> None:
        for name in _PLACEHOLDER.findall(template):
            if not (_known_field(name) or name in TEMPLATE_NAMES):
                self.problem(node, key, f"{label}: unknown placeholder {{{name}}}")

    def value_map(self, target: str, spec: Any, parent: Located, label: str) -> ValueMap | None:
        if not isinstance(spec, Located):
            self.problem(parent, target, f"{label} must be a mapping with from/map/rules")
            return None
        for k in spec:
            if k not in _VALUE_KEYS:
                self.problem(
                    spec, k, f"{label}.{k}: unknown key; expected {', '.join(sorted(_VALUE_KEYS))}"
                )
        template = spec.get("template")
        if template is not None and not isinstance(template, str):
            self.problem(spec, "template", f"{label}.template must be text")
            template = None
        if template is not None:
            self.placeholders(spec, "template", template, label)
        source = spec.get("from")
        if template is None and (not isinstance(source, str) or not _known_field(source)):
            self.problem(
                spec,
                "from",
                f"{label}.from: {source!r} is not a source field; expected one of "
                f"{', '.join(SOURCE_FIELDS)} or custom.NAME",
            )
            return None
        table: dict[str, str] = {}
        tnode = spec.get("map", Located())
        if not isinstance(tnode, Located):
            self.problem(spec, "map", f"{label}.map must be a mapping")
        else:
            for k, v in tnode.items():
                if not isinstance(v, str | int | float):
                    self.problem(
                        tnode,
                        k,
                        f"{label}.map.{k}: target value must be text, not {type(v).__name__}",
                    )
                else:
                    table[k] = str(v)
        rules = self.rules(spec, label)
        default = spec.get("default")
        if default is not None and not isinstance(default, str):
            self.problem(spec, "default", f"{label}.default must be text")
            default = None
        keep = spec.get("keep", False)
        if not isinstance(keep, bool):
            self.problem(spec, "keep", f"{label}.keep must be true or false")
            keep = False
        return ValueMap(target, source, table, tuple(rules), default, keep, template)

    def rules(self, spec: Located, label: str) -> list[Rule]:
        out: list[Rule] = []
        rnode = spec.get("rules", [])
        if not isinstance(rnode, list):
            self.problem(spec, "rules", f"{label}.rules must be a list")
            return out
        for i, r in enumerate(rnode):
            where = r if isinstance(r, Located) else spec
            if not isinstance(r, Located) or set(r) != {"when", "value"}:
                self.problem(
                    where,
                    None if isinstance(r, Located) else "rules",
                    f"{label}.rules[{i}] needs exactly `when` and `value`",
                )
                continue
            when = r["when"]
            if not isinstance(when, Located) or not when:
                self.problem(r, "when", f"{label}.rules[{i}].when must map fields to values")
                continue
            conds: dict[str, tuple[str, ...]] = {}
            for f, accepted in when.items():
                vals = _str_list(accepted)
                if not _known_field(f):
                    self.problem(when, f, f"rules[{i}].when.{f}: not a source field")
                elif vals is None:
                    self.problem(when, f, f"rules[{i}].when.{f}: expected a value or list")
                else:
                    conds[f] = vals
            if not isinstance(r["value"], str):
                self.problem(r, "value", f"rules[{i}].value must be text")
                continue
            out.append(Rule(conds, r["value"], r.line))
        return out

    def users(self, unode: Any, data: Located) -> tuple[dict[str, str], str]:
        users: dict[str, str] = {}
        if not isinstance(unode, Located):
            self.problem(data, "users", "users must be a mapping with map/file/unmapped")
            return users, "attribute"
        for k in unode:
            if k not in {"map", "file", "unmapped", "fallback"}:
                self.problem(
                    unode, k, f"users.{k}: unknown key; expected map, file, unmapped, fallback"
                )
        if "file" in unode:
            users.update(self.user_file(unode))
        umap = unode.get("map", Located())
        if not isinstance(umap, Located):
            self.problem(unode, "map", "users.map must map old logins to new ones")
        else:
            for k, v in umap.items():
                if v is not None and not isinstance(v, str):
                    self.problem(umap, k, f"users.map.{k}: new login must be text or null")
                elif v:
                    users[k] = v
                else:
                    users.pop(k, None)
        unmapped = unode.get("unmapped", "attribute")
        if unmapped not in {"attribute", "error"}:
            self.problem(
                unode, "unmapped", f"users.unmapped must be attribute or error, not {unmapped!r}"
            )
        return users, unmapped if isinstance(unmapped, str) else "attribute"

    def user_file(self, unode: Located) -> dict[str, str]:
        """A CSV user map (old_login,new_login[,email,name]) kept beside the mapping."""
        name = unode["file"]
        if not isinstance(name, str):
            self.problem(unode, "file", "users.file must be a path to a CSV file")
            return {}
        path = self.path.parent / name
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            self.problem(unode, "file", f"users.file: cannot read {path}: {exc}")
            return {}
        out: dict[str, str] = {}
        rows = csv.reader(text.splitlines())
        header = next(rows, [])
        if header[:2] != ["old_login", "new_login"]:
            self.problems.append(
                f"{path}:1: the header must start with old_login,new_login (found {header[:2]})"
            )
            return {}
        for n, row in enumerate(rows, 2):
            if not row or not row[0].strip():
                continue
            old, new = row[0].strip(), (row[1].strip() if len(row) > 1 else "")
            if old in out:
                self.problems.append(f"{path}:{n}: old_login {old!r} is listed twice")
            if new:
                out[old] = new
        return out

    def field_list(self, data: Located, key: str) -> tuple[str, ...]:
        node = data.get(key, [])
        names = _str_list(node) if node != [] else ()
        if names is None:
            self.problem(data, key, f"{key} must be a list of source fields")
            return ()
        for name in names:
            if not _known_field(name):
                self.problem(
                    data,
                    key,
                    f"{key}: {name!r} is not a source field; expected one of "
                    f"{', '.join(SOURCE_FIELDS)} or custom.NAME",
                )
        return names

    def history(self, data: Located) -> HistoryRendering:
        node = data.get("history")
        if node is None:
            return HistoryRendering()
        if not isinstance(node, Located):
            self.problem(data, "history", "history must be a mapping (render, fields)")
            return HistoryRendering()
        for k in node:
            if k not in {"render", "fields"}:
                self.problem(node, k, f"history.{k}: unknown key; expected render, fields")
        render = node.get("render", "none")
        if not isinstance(render, str) or render not in HISTORY_RENDERS:
            self.problem(
                node,
                "render",
                f"history.render must be {' or '.join(HISTORY_RENDERS)}, not {render!r}",
            )
            render = "none"
        fields = None
        if "fields" in node:
            # Not checked against SOURCE_FIELDS: history keeps the source tracker's own
            # field names (Trac's owner, keywords, cc), which differ from tracker to tracker.
            fields = _str_list(node["fields"]) or None
            if fields is None:
                self.problem(
                    node,
                    "fields",
                    "history.fields must be a list of source field names "
                    "(leave it out for every field)",
                )
        return HistoryRendering(render, fields)


def load_hook(path: Path) -> tuple[Hook, bytes]:
    """Import the mapping's escape-hatch module from a file path; it must define ``transform``."""
    import importlib.util

    try:
        code = path.read_bytes()
    except OSError as exc:
        raise MappingError([f"{path}: hook module cannot be read: {exc.strerror}"]) from None
    spec = importlib.util.spec_from_file_location(f"migrator_hook_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise MappingError([f"{path}: not a Python module"])
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # the user's code: any error is theirs to fix
        raise MappingError(
            [f"{path}: hook failed to import: {exc.__class__.__name__}: {exc}"]
        ) from None
    transform = getattr(module, "transform", None)
    if not callable(transform):
        raise MappingError(
            [f"{path}: hook must define transform(ticket: dict, payload: dict) -> dict | None"]
        )
    return transform, code


def load_mapping(path: Path) -> Mapping:
    raw = path.read_bytes() if path.exists() else b""
    data = load_yaml(path)
    if not isinstance(data, Located):
        raise MappingError([f"{path}:1: the mapping must be a YAML mapping (key: value lines)"])
    ld = _Loader(path)
    for key in data:
        if key not in _TOP_KEYS:
            ld.problem(
                data, key, f"unknown key {key!r}; expected one of {', '.join(sorted(_TOP_KEYS))}"
            )
    if data.get("version", 1) != 1:
        ld.problem(data, "version", f"version must be 1, not {data.get('version')!r}")

    project = ""
    closed: tuple[str, ...] = DEFAULT_CLOSED
    target = data.get("target")
    if not isinstance(target, Located) or not isinstance(target.get("project"), str):
        ld.problem(data, "target", "target.project (the target project) is required")
    else:
        project = target["project"]
        for k in target:
            if k not in {"project", "closed_statuses"}:
                ld.problem(target, k, f"target.{k}: unknown key; expected project, closed_statuses")
        if "closed_statuses" in target:
            parsed = _str_list(target["closed_statuses"])
            if parsed is None:
                ld.problem(target, "closed_statuses", "target.closed_statuses must be a list")
            else:
                closed = parsed

    values: dict[str, ValueMap] = {}
    vnode = data.get("values", Located())
    if not isinstance(vnode, Located):
        ld.problem(data, "values", "values must be a mapping of target fields")
        vnode = Located()
    for tfield in REQUIRED_VALUES:
        if tfield not in vnode:
            ld.problem(data, "values", f"values.{tfield} is required")
    for tfield, spec in vnode.items():
        if tfield not in VALUE_FIELDS:
            ld.problem(
                vnode,
                tfield,
                f"values.{tfield}: unknown target field; expected one of {', '.join(VALUE_FIELDS)}"
                " (custom fields go under custom_fields)",
            )
            continue
        vm = ld.value_map(tfield, spec, vnode, f"values.{tfield}")
        if vm is not None:
            values[tfield] = vm

    custom: dict[str, ValueMap] = {}
    cnode = data.get("custom_fields", Located())
    if not isinstance(cnode, Located):
        ld.problem(data, "custom_fields", "custom_fields must map target field names to rules")
        cnode = Located()
    for name, spec in cnode.items():
        vm = ld.value_map(name, spec, cnode, f"custom_fields.{name}")
        if vm is not None:
            custom[name] = vm

    subject = None
    tnode = data.get("templates", Located())
    if not isinstance(tnode, Located):
        ld.problem(data, "templates", "templates must be a mapping")
    else:
        for k, v in tnode.items():
            if k != "subject":
                ld.problem(tnode, k, f"templates.{k}: unknown key; expected subject")
            elif not isinstance(v, str) or "{title}" not in v:
                ld.problem(tnode, k, "templates.subject must be text containing {title}")
            else:
                ld.placeholders(tnode, k, v, "templates.subject")
                subject = v

    users, unmapped = ld.users(data.get("users", Located()), data)
    unode = data.get("users")
    fallback = unode.get("fallback") if isinstance(unode, Located) else None
    if fallback is not None and not isinstance(fallback, str):
        ld.problem(unode, "fallback", "users.fallback must be a login in the target")
        fallback = None

    markup_to: str | None = None
    mentions = True
    live_mentions = True
    references = True
    old_urls: tuple[str, ...] = ()
    xnode = data.get("text", Located())
    text_keys = "markup, mentions, references, old_urls"
    if not isinstance(xnode, Located):
        ld.problem(data, "text", f"text must be a mapping ({text_keys})")
    else:
        for k in xnode:
            if k not in {"markup", "mentions", "references", "old_urls"}:
                ld.problem(xnode, k, f"text.{k}: unknown key; expected {text_keys}")
        m = xnode.get("markup")
        if m is not None and m not in MARKUPS:
            ld.problem(xnode, "markup", f"text.markup must be one of {', '.join(MARKUPS)}")
        elif isinstance(m, str):
            markup_to = m
        mentions_v = xnode.get("mentions", "neutralize")
        if mentions_v not in ("neutralize", "all", "keep"):
            ld.problem(xnode, "mentions", "text.mentions must be neutralize, all or keep")
        mentions = mentions_v != "keep"
        live_mentions = mentions_v != "all"
        references_v = xnode.get("references", "rewrite")
        if references_v not in ("rewrite", "keep"):
            ld.problem(xnode, "references", "text.references must be rewrite or keep")
        references = references_v != "keep"
        urls = xnode.get("old_urls", [])
        parsed = _str_list(urls) if urls != [] else ()
        if parsed is None:
            ld.problem(xnode, "old_urls", "text.old_urls must be a list of base URLs")
        else:
            old_urls = parsed

    preserve = ld.field_list(data, "preserve")
    drop = ld.field_list(data, "drop")
    both = sorted(set(preserve) & set(drop))
    if both:
        ld.problem(data, "drop", f"{', '.join(both)} listed in both preserve and drop")
    history = ld.history(data)
    if history.render != "none" and "history" in drop:
        ld.problem(
            data,
            "drop",
            f"history is dropped here but history.render is {history.render}; "
            "remove history from drop, or set history.render to none",
        )

    hook = None
    hook_code = b""
    if "hook" in data:
        if not isinstance(data["hook"], str):
            ld.problem(data, "hook", "hook must be the path of a Python file")
        elif not ld.problems:
            try:
                hook, hook_code = load_hook(path.parent / data["hook"])
            except MappingError as exc:
                ld.problems += [f"{ld.at(data, 'hook')}: hook: {p}" for p in exc.problems]

    if ld.problems:
        raise MappingError(ld.problems)
    return Mapping(
        path=path,
        digest=hashlib.sha256(raw + hook_code).hexdigest(),
        project=project,
        values=values,
        custom_fields=custom,
        users=users,
        unmapped_users=unmapped,
        fallback_user=fallback,
        preserve=preserve,
        drop=drop,
        closed_statuses=closed,
        subject_template=subject,
        markup_to=markup_to,
        neutralize_mentions=mentions,
        live_mentions=live_mentions,
        old_urls=old_urls,
        rewrite_references=references,
        hook=hook,
        history=history,
        lines=dict(data.key_lines),
    )
