"""``migrator init``: a commented ``migration.toml`` and a mapping to start from.

The pairs ``init`` knows are the mappings the trackers carry: each target's
folder (``migrator/trackers/NAME/mappings/``) holds a copy of every mapping into
it that the repository's ``mappings/`` folder ships (a test keeps them
byte-identical), so a pair exists exactly when its mapping does, and an
installed wheel, which has no ``mappings/`` folder, still has them.  A file a
mapping names (its ``hook``) is copied beside it, so the relative path still
resolves.

``migration.toml`` is assembled from one template per part, in this order: a
header, the ``[source]`` section of the source's tracker
(``trackers/NAME/templates/source.toml``), the ``[target]`` section of the
target's (``templates/target.toml``), then the shared ``[staging]``,
``[mapping]`` and ``[load]`` sections (``migrator/templates/config/``).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from migrator.errors import ConfigError
from migrator.trackers import registry

CONFIG: Traversable = files("migrator") / "templates" / "config"
_MAPPING_NAME = re.compile(r"([a-z0-9]+)-to-([a-z0-9]+)\.yaml")
_ENV_REFERENCE = re.compile(r"\$env:([A-Za-z_][A-Za-z0-9_]*)|\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_CONFIG_PARTS = ("header", "source", "target", "staging", "mapping", "load")


def _mappings() -> dict[tuple[str, str], Traversable]:
    """Every shipped mapping by (source, target): in the target's folder, into that target."""
    found: dict[tuple[str, str], Traversable] = {}
    for tracker in registry.trackers():
        for item in tracker.mappings():
            m = _MAPPING_NAME.fullmatch(item.name)
            if m and m.group(2) in tracker.targets and m.group(1) in registry.types("source"):
                found.setdefault((m.group(1), m.group(2)), item)
    return found


def pairs() -> list[tuple[str, str]]:
    """Every (source, target) pair with a mapping to start from, sorted."""
    return sorted(_mappings())


def describe_pairs() -> list[str]:
    """The known pairs as ``source -> target``, for help text and errors."""
    return [f"{source} -> {target}" for source, target in pairs()]


@dataclass(frozen=True)
class Initialized:
    """What ``init`` wrote, and what to do next."""

    files: list[Path]
    # Environment variables the config's secret references name, in order of appearance.
    secrets: list[str]
    steps: list[str]


def render_config(source: str, target: str) -> str:
    """The text of ``migration.toml`` for a pair (known or not: callers check)."""
    parts = []
    for part in _CONFIG_PARTS:
        if part == "source":
            template = registry.tracker_for("source", source).template("source")
        elif part == "target":
            template = registry.tracker_for("target", target).template("target")
        else:
            template = CONFIG / f"{part}.toml"
        text = template.read_text(encoding="utf-8")
        parts.append(text.replace("{source}", source).replace("{target}", target))
    return "\n".join(parts)


def secrets_named(config_text: str) -> list[str]:
    """The environment variables that the settings (not the comments) refer to."""
    names: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, str):
            m = _ENV_REFERENCE.fullmatch(value)
            if m and (m.group(1) or m.group(2)) not in names:
                names.append(m.group(1) or m.group(2))

    walk(tomllib.loads(config_text))
    return names


def _mapping_extras(mapping: bytes) -> list[str]:
    """Files the mapping names by a path relative to itself (its hook), to copy beside it."""
    import yaml  # here: the CLI lists the pairs in its help without loading YAML

    data = yaml.safe_load(mapping)
    hook = data.get("hook") if isinstance(data, dict) else None
    return [hook] if isinstance(hook, str) else []


def init(directory: Path, source: str, target: str, *, force: bool = False) -> Initialized:
    """Write ``migration.toml`` and ``mappings/SOURCE-to-TARGET.yaml`` into ``directory``.

    Nothing is written when any of the files exists, unless ``force``: both are
    meant to be edited, and an edited file is not to be lost to a second ``init``.
    """
    if (source, target) not in pairs():
        hint = ""
        if source == "xlsx" and ("csv", target) in pairs():
            hint = '; an Excel workbook starts from --source csv, then type = "xlsx"'
        raise ConfigError(
            f"no template for {source} -> {target}",
            remedy=f"init knows {', '.join(describe_pairs())}{hint}",
        )
    mapping_name = f"{source}-to-{target}.yaml"
    shipped = _mappings()[(source, target)]
    mapping = shipped.read_bytes()
    config_text = render_config(source, target)
    # Copied as bytes: what init writes is exactly what the tests compare with mappings/.
    writes: dict[Path, bytes] = {
        directory / "migration.toml": config_text.encode("utf-8"),
        directory / "mappings" / mapping_name: mapping,
    }
    for extra in _mapping_extras(mapping):
        beside = registry.tracker_for("target", target).resource("mappings", *extra.split("/"))
        writes[directory / "mappings" / extra] = beside.read_bytes()
    existing = [path for path in writes if path.exists()]
    if existing and not force:
        raise ConfigError(
            f"{', '.join(map(str, existing))} already exist{'s' if len(existing) == 1 else ''}",
            remedy="edit the existing files, or pass --force to overwrite them",
        )
    for path, content in writes.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    secrets = secrets_named(config_text)
    return Initialized(list(writes), secrets, _next_steps(directory, mapping_name, secrets))


def _next_steps(directory: Path, mapping_name: str, secrets: list[str]) -> list[str]:
    steps = []
    if directory.resolve() != Path.cwd().resolve():
        steps.append(f"cd {directory}")
    steps += [
        "edit migration.toml: the [source] and [target] settings (each one is explained there)",
        f"edit mappings/{mapping_name}: target.project and every value table, agreed with "
        "both teams",
        "prepare the new tracker as the [target] comments say",
    ]
    if secrets:
        steps.append(
            f"export {' '.join(f'{name}=...' for name in secrets)}"
            "   (the secrets migration.toml refers to)"
        )
    steps += [
        "migrator extract   (copy the old tickets into staging)",
        "migrator check     (every old value and what it becomes; --offline before the "
        "new tracker is ready)",
    ]
    return steps


__all__ = ["Initialized", "describe_pairs", "init", "pairs", "render_config", "secrets_named"]
