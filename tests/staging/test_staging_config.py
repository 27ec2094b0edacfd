"""``[staging] url`` and ``password``: the password is a secret reference, never a value."""

from __future__ import annotations

from pathlib import Path

import pytest

from migrator.config import load_config
from migrator.errors import ConfigError, StagingError
from migrator.staging.store import PG_DRIVER, engine_url

BASE = """\
[source]
type = "trac"
env = "env"
[target]
type = "redmine"
url = "http://127.0.0.1:1"
api_key = "$env:TEST_KEY"
[mapping]
file = "m.yaml"
"""
SECRET = "p@ss:w/rd 秘密"
QUOTED = "p%40ss%3Aw%2Frd%20%E7%A7%98%E5%AF%86"


def config_with(tmp_path: Path, staging: str) -> Path:
    path = tmp_path / "migration.toml"
    path.write_text(BASE + "[staging]\n" + staging, encoding="utf-8")
    return path


def test_password_reference(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STAGING_PW", SECRET)
    path = config_with(
        tmp_path, 'url = "postgresql://migrator@db:5432/m"\npassword = "$env:STAGING_PW"\n'
    )
    config = load_config(path)
    assert config.staging_url == "postgresql://migrator@db:5432/m"
    assert config.staging_password is not None and config.staging_password.reveal() == SECRET
    assert SECRET not in repr(config)
    # Blobs stay on disk beside the config, whatever the database.
    assert config.blobs_dir == tmp_path / "blobs"


def test_password_from_a_file(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text(SECRET + "\n", encoding="utf-8")
    config = load_config(
        config_with(tmp_path, 'url = "postgresql://migrator@db/m"\npassword = "$file:pw"\n')
    )
    assert config.staging_password is not None and config.staging_password.reveal() == SECRET


def test_whole_url_by_reference_keeps_its_password_apart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STAGING_URL", f"postgres://migrator:{QUOTED}@db:5433/m?sslmode=require")
    config = load_config(config_with(tmp_path, 'url = "$env:STAGING_URL"\n'))
    assert config.staging_url == "postgres://migrator@db:5433/m?sslmode=require"
    assert config.staging_password is not None and config.staging_password.reveal() == SECRET
    url = engine_url(config.staging_url, config.staging_password)
    assert url.drivername == PG_DRIVER and url.password == SECRET
    assert url.query == {"sslmode": "require"}
    assert SECRET not in url.render_as_string(hide_password=True)


@pytest.mark.parametrize(
    ("staging", "message"),
    [
        (f'url = "postgresql://migrator:{QUOTED}@db/m"\n', "[staging] url holds a password"),
        ('url = "postgresql://migrator@db/m"\npassword = "hunter2"\n', "must be references"),
        ('url = "postgresql://migrator@db/m"\npassword = 12\n', "password must be a reference"),
        ('url = "$env:NO_SUCH_STAGING_URL"\n', "NO_SUCH_STAGING_URL is not set"),
    ],
)
def test_literal_or_missing_secrets_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, staging: str, message: str
) -> None:
    monkeypatch.delenv("NO_SUCH_STAGING_URL", raising=False)
    with pytest.raises(ConfigError) as err:
        load_config(config_with(tmp_path, staging))
    assert message in str(err.value)
    assert err.value.exit_code == 2
    assert QUOTED not in str(err.value) and "hunter2" not in str(err.value)


def test_password_given_twice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STAGING_URL", f"postgresql://migrator:{QUOTED}@db/m")
    monkeypatch.setenv("STAGING_PW", SECRET)
    path = config_with(tmp_path, 'url = "$env:STAGING_URL"\npassword = "$env:STAGING_PW"\n')
    with pytest.raises(ConfigError, match="given twice") as err:
        load_config(path)
    assert QUOTED not in str(err.value)


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("postgresql://u@h/d", PG_DRIVER),
        ("postgres://u@h/d", PG_DRIVER),
        ("postgresql+psycopg://u@h/d", PG_DRIVER),
        ("postgresql+psycopg2://u@h/d", "postgresql+psycopg2"),
        ("sqlite:///x.sqlite", "sqlite"),
    ],
)
def test_engine_urls(url: str, driver: str) -> None:
    assert engine_url(url).drivername == driver


def test_not_a_url_is_refused_without_echoing_it() -> None:
    with pytest.raises(StagingError, match="not a database URL") as err:
        engine_url("migrator:hunter2 at db")
    assert "hunter2" not in str(err.value)
