"""``migrator init``: write a commented config and a mapping skeleton to start from."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from migrator.connectors import SOURCES, TARGETS
from migrator.errors import ConfigError

PAIRS = {("trac", "redmine")}


def init(directory: Path, source: str, target: str, *, force: bool = False) -> list[Path]:
    if (source, target) not in PAIRS:
        raise ConfigError(
            f"no template for {source} -> {target}",
            remedy=f"sources: {', '.join(SOURCES)}; targets: {', '.join(TARGETS)}",
        )
    templates = files("migrator") / "templates"
    config = directory / "migration.toml"
    mapping = directory / "mappings" / f"{source}-to-{target}.yaml"
    existing = [p for p in (config, mapping) if p.exists()]
    if existing and not force:
        raise ConfigError(
            f"{', '.join(map(str, existing))} already exist(s)",
            remedy="edit the existing files, or pass --force to overwrite them",
        )
    mapping.parent.mkdir(parents=True, exist_ok=True)
    text = (templates / "migration.toml").read_text(encoding="utf-8")
    config.write_text(
        text.replace("{source}", source).replace("{target}", target), encoding="utf-8"
    )
    mapping.write_text(
        (templates / f"{source}-to-{target}.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    return [config, mapping]
