"""Config and secrets: references only, clear errors, never a value in a repr."""

from __future__ import annotations

from pathlib import Path

import pytest

from migrator.config import load_config
from migrator.errors import ConfigError, SecretError
from migrator.secrets import Redactor, resolve_secret

GOOD = """\
[source]
type = "trac"
env = "env"
[target]
type = "redmine"
url = "http://127.0.0.1:1"
api_key = "$env:TEST_KEY"
[mapping]
file = "mappings/m.yaml"
"""


def test_paths_are_relative_to_the_config(tmp_path: Path) -> None:
    (tmp_path / "migration.toml").write_text(GOOD)
    config = load_config(tmp_path / "migration.toml")
    assert config.staging_url == f"sqlite:///{tmp_path / 'staging.sqlite'}"
    assert config.mapping_path == tmp_path / "mappings" / "m.yaml"
    assert config.batch_size == 50


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[source\n", "not valid TOML"),
        (GOOD.replace("[mapping]\nfile", "[mapping]\nfiles"), "[mapping] needs file"),
        (GOOD + "[colour]\n", "unknown section(s) colour"),
        (GOOD.replace('type = "trac"\n', ""), "[source] needs a type"),
        (GOOD + "[load]\nbatch_size = 0\n", "batch_size must be a positive integer"),
    ],
)
def test_bad_config_is_a_usage_error(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "migration.toml").write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "migration.toml")
    assert message in str(err.value)
    assert err.value.exit_code == 2


def test_missing_config_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="migrator init"):
        load_config(tmp_path / "migration.toml")


def test_secret_references(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_KEY", "s3cr3t-value")
    secret = resolve_secret("$env:TEST_KEY", base=tmp_path, key="k")
    assert secret.reveal() == "s3cr3t-value"
    assert "s3cr3t" not in repr(secret) and "s3cr3t" not in f"{secret}"
    (tmp_path / "token").write_text("from-file\n")
    assert resolve_secret("$file:token", base=tmp_path, key="k").reveal() == "from-file"
    assert Redactor(secret)("key=s3cr3t-value!") == "key=***!"


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("plain-token", "secrets must be references"),
        ("$env:NOT_SET_ANYWHERE_X", "NOT_SET_ANYWHERE_X is not set"),
        ("$file:missing", "cannot read secret file"),
    ],
)
def test_bad_secret_reference(tmp_path: Path, ref: str, message: str) -> None:
    with pytest.raises(SecretError, match=message):
        resolve_secret(ref, base=tmp_path, key="[target] api_key")
