"""``migration.toml``: one file per migration, read by every command.

Paths in the file are relative to the file itself, so a migration directory can
be moved or checked into a repository as a whole.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from migrator.errors import ConfigError
from migrator.secrets import Secret, resolve_secret
from migrator.staging.blobs import blob_root

DEFAULT_CONFIG = "migration.toml"
DEFAULT_BATCH_SIZE = 50

_TOP_KEYS = {"source", "target", "staging", "mapping", "load"}


@dataclass(frozen=True)
class Config:
    path: Path
    source: dict[str, Any]
    target: dict[str, Any]
    staging_url: str
    mapping_path: Path
    batch_size: int = DEFAULT_BATCH_SIZE
    blobs_path: Path | None = None
    workers: int = 1
    settle_seconds: float = 10.0
    extra: dict[str, Any] = field(default_factory=dict)
    # The staging database's password ([staging] password, or the one inside a URL given
    # by reference); staging_url never holds it.
    staging_password: Secret | None = None

    @property
    def base(self) -> Path:
        return self.path.parent

    @property
    def blobs_dir(self) -> Path:
        """Where attachment bytes are kept (``[staging] blobs``)."""
        return self.blobs_path or self.base / "blobs"

    def resolve(self, value: str) -> Path:
        """A path from the config, relative to the config file."""
        p = Path(value).expanduser()
        return p if p.is_absolute() else self.base / p


def _section(data: dict[str, Any], name: str, path: Path) -> dict[str, Any]:
    value = data.get(name)
    if not isinstance(value, dict):
        raise ConfigError(
            f"missing [{name}] section",
            where=str(path),
            remedy="run `migrator init` to write a commented example",
        )
    if not isinstance(value.get("type"), str) and name in {"source", "target"}:
        raise ConfigError(
            f"[{name}] needs a type",
            where=str(path),
            remedy=f'add type = "..." under [{name}] (e.g. "trac", "redmine")',
        )
    return value


def load_config(path: str | Path = DEFAULT_CONFIG) -> Config:
    path = Path(path).resolve()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"config file {path.name} not found",
            where=str(path.parent),
            remedy="run `migrator init --source trac --target redmine` here, or pass -c PATH",
        ) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"not valid TOML: {exc}", where=str(path), remedy="fix the syntax at that line"
        ) from None
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise ConfigError(
            f"unknown section(s) {', '.join(unknown)}",
            where=str(path),
            remedy=f"use only {', '.join(sorted(_TOP_KEYS))}",
        )
    source = _section(data, "source", path)
    target = _section(data, "target", path)
    staging = data.get("staging", {})
    mapping = data.get("mapping", {})
    load = data.get("load", {})
    base = path.parent
    url, staging_password = _staging_url(staging, base, path)
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        rel = url[len("sqlite:///") :]
        if rel and rel != ":memory:" and not Path(rel).is_absolute():
            url = f"sqlite:///{base / rel}"
    mapping_file = mapping.get("file")
    if not isinstance(mapping_file, str):
        raise ConfigError(
            "[mapping] needs file = PATH",
            where=str(path),
            remedy='add [mapping] file = "mappings/<name>.yaml"',
        )
    batch_size = load.get("batch_size", DEFAULT_BATCH_SIZE)
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError(
            f"[load] batch_size must be a positive integer, not {batch_size!r}",
            where=str(path),
            remedy="set batch_size = 50",
        )
    workers = load.get("workers", 1)
    if not isinstance(workers, int) or not 1 <= workers <= 32:
        raise ConfigError(
            f"[load] workers must be an integer from 1 to 32, not {workers!r}",
            where=str(path),
            remedy="set workers = 1 (a target that serves one request at a time) or more",
        )
    settle = load.get("settle_seconds", 10.0)
    if not isinstance(settle, int | float) or settle < 0:
        raise ConfigError(
            f"[load] settle_seconds must be a number of seconds, not {settle!r}",
            where=str(path),
            remedy="set settle_seconds = 10 (how long a timed-out write may still take)",
        )
    mp = Path(mapping_file).expanduser()
    return Config(
        path=path,
        source=source,
        target=target,
        staging_url=url,
        mapping_path=mp if mp.is_absolute() else base / mp,
        batch_size=batch_size,
        blobs_path=blob_root(url, staging.get("blobs"), base),
        workers=workers,
        settle_seconds=float(settle),
        staging_password=staging_password,
    )


def _staging_url(staging: dict[str, Any], base: Path, path: Path) -> tuple[str, Secret | None]:
    """``[staging] url`` without its password, and the password as a :class:`Secret`.

    The URL is written as is (no password in it), or as a secret reference when the
    whole URL is a secret; a password goes in ``password`` as a reference.  A literal
    URL with a password is refused, like every other literal secret.
    """
    value = staging.get("url") or f"sqlite:///{base / 'staging.sqlite'}"
    if not isinstance(value, str):
        raise ConfigError(
            "[staging] url must be a string", where=str(path), remedy='url = "sqlite:///..."'
        )
    literal = not value.startswith("$")
    if not literal:
        value = resolve_secret(value, base=base, key="[staging] url").reveal()
    url, password = _split_password(value)
    if literal and password is not None:
        raise ConfigError(
            "[staging] url holds a password: secrets must be references, not literal values",
            where=str(path),
            remedy='remove it from the URL and add password = "$env:VARIABLE" (or "$file:PATH") '
            "under [staging]",
        )
    ref = staging.get("password")
    if ref is not None:
        if password is not None:
            raise ConfigError(
                "[staging] password is given twice: in the URL and as password",
                where=str(path),
                remedy="keep one of them",
            )
        if not isinstance(ref, str):
            raise ConfigError(
                "[staging] password must be a reference",
                where=str(path),
                remedy='password = "$env:VARIABLE" or "$file:PATH"',
            )
        return url, resolve_secret(ref, base=base, key="[staging] password")
    return url, None if password is None else Secret(password)


def _split_password(url: str) -> tuple[str, str | None]:
    """URL without the password of its authority part, and that password (percent-decoded)."""
    scheme, sep, rest = url.partition("://")
    authority, slash, tail = rest.partition("/")
    userinfo, at, host = authority.rpartition("@")
    if not sep or not at or ":" not in userinfo:
        return url, None
    user, _, password = userinfo.partition(":")
    return f"{scheme}://{user}@{host}{slash}{tail}", unquote(password)
