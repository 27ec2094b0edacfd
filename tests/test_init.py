"""``migrator init``: a starting point for every shipped pair that the other commands accept.

The pairs are read here from the repository's mappings/ folder, independently of
how migrator.init finds them, so a mapping added without its packaged copy, or a
copy without its mapping, fails.
"""

from __future__ import annotations

import csv
import re
import tomllib
from pathlib import Path

import pytest

from migrator.config import load_config
from migrator.errors import ConfigError, SecretError, SourceError
from migrator.init import init, pairs, render_config
from migrator.mapping import load_mapping
from migrator.trackers import make_source, make_target, sources, targets
from migrator.trackers.redmine.source import SECTION_KEYS as REDMINE_SOURCE_KEYS
from tests.cli_runner import run

REPO = Path(__file__).resolve().parents[1]
MAPPINGS = REPO / "mappings"
TRACKERS = REPO / "migrator" / "trackers"
SHIPPED = sorted(
    (m.group(1), m.group(2))
    for m in (re.fullmatch(r"(\w+)-to-(\w+)\.yaml", p.name) for p in MAPPINGS.glob("*.yaml"))
    if m
)
IDS = [f"{source}-to-{target}" for source, target in SHIPPED]

# Every key each connector reads from its section (see its from_config); the
# templates must name each one, set or in a comment.
SOURCE_KEYS = {
    "trac": {"type", "env", "name", "page_size"},
    "roundup": {"type", "url", "user", "password", "tracker_dir", "name", "closed_statuses"},
    "redmine": set(REDMINE_SOURCE_KEYS),
    "csv": {
        "type",
        "name",
        "file",
        "sheet",
        "header_row",
        "encoding",
        "delimiter",
        "timezone",
        "markup",
        "columns",
        "comments_file",
        "comments_sheet",
        "comment_columns",
    },
}
TARGET_KEYS = {
    "redmine": {"type", "url", "api_key", "legacy_field", "timeout", "rate_limit"},
    "roundup": {"type", "url", "user", "password", "legacy_property", "timeout", "rate_limit"},
    "github": {"type", "repo", "token", "url", "attachments_branch", "timeout", "rate_limit"},
}
# The environment variables each side's secrets are read from: source and target
# never share one (Redmine -> Redmine has two keys).
SOURCE_SECRETS = {
    "trac": [],
    "csv": [],
    "roundup": ["ROUNDUP_PASSWORD"],
    "redmine": ["OLD_REDMINE_KEY"],
}
TARGET_SECRETS = {
    "redmine": ["REDMINE_API_KEY"],
    "roundup": ["ROUNDUP_PASSWORD"],
    "github": ["GITHUB_TOKEN"],
}


def shipped_files() -> list[Path]:
    return sorted(
        p.relative_to(MAPPINGS)
        for p in MAPPINGS.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )


def test_pairs_are_the_shipped_mappings() -> None:
    assert pairs() == SHIPPED
    assert {s for s, _ in SHIPPED} <= set(sources()) and {t for _, t in SHIPPED} <= set(targets())


def packaged_copies() -> dict[Path, Path]:
    """Each file under a tracker's mappings/ folder, by its path inside that folder."""
    return {
        p.relative_to(folder): p
        for folder in TRACKERS.glob("*/mappings")
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


def packaged_home(name: Path) -> str:
    """Where a shipped file's copy belongs: a mapping in its target's folder."""
    m = re.fullmatch(r"\w+-to-(\w+)\.yaml", name.name)
    return f"migrator/trackers/{m.group(1) if m else 'TARGET'}/mappings/{name}"


@pytest.mark.parametrize("name", shipped_files(), ids=str)
def test_packaged_copy_is_byte_identical_to_the_shipped_file(name: Path) -> None:
    copy = packaged_copies().get(name)
    assert copy is not None, f"copy mappings/{name} to {packaged_home(name)}"
    assert copy.read_bytes() == (MAPPINGS / name).read_bytes(), (
        f"{copy.relative_to(REPO)} differs from mappings/{name}: copy it again"
    )


def test_no_packaged_mapping_without_a_shipped_one() -> None:
    assert set(packaged_copies()) == set(shipped_files())
    for name, copy in packaged_copies().items():
        m = re.fullmatch(r"\w+-to-(\w+)\.yaml", name.name)
        assert m is None or copy.parents[1].name == m.group(1), f"{copy} is not in its target"


def uncomment_every_setting(text: str) -> str:
    """The config with each optional setting (``# key = value``, ``# [table]``) switched on."""
    pattern = re.compile(r"# ([a-z_]+ = \S.*|\[[a-z_.]+\])")
    return "\n".join(
        m.group(1) if (m := pattern.fullmatch(line)) else line for line in text.splitlines()
    )


def write_sheet(config_path: Path) -> None:
    """A CSV with the headers the [source.columns] of a spreadsheet config name, one row."""
    config = load_config(config_path)
    columns: dict[str, str] = config.source["columns"]
    path = config.resolve(config.source["file"])
    path.parent.mkdir(parents=True, exist_ok=True)
    row = {header: "" for header in columns.values()}
    row |= {columns["id"]: "1", columns["title"]: "The first bug"}
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(row))
        writer.writeheader()
        writer.writerow(row)
    comment_columns: dict[str, str] | None = config.source.get("comment_columns")
    if comment_columns and "comments_file" in config.source:
        comments = config.resolve(config.source["comments_file"])
        with comments.open("w", encoding="utf-8", newline="") as out:
            csv.writer(out).writerow(list(comment_columns.values()))


@pytest.mark.parametrize(("source", "target"), SHIPPED, ids=IDS)
def test_init_writes_a_config_every_command_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str, target: str
) -> None:
    folder = tmp_path / "migration"
    result = run(None, "init", "--source", source, "--target", target, "--dir", str(folder))
    assert result.exit_code == 0, result.output + result.stderr
    mapping_name = f"{source}-to-{target}.yaml"
    config_path = folder / "migration.toml"

    # The mapping (and a hook it names) arrive as shipped, beside each other.
    assert (folder / "mappings" / mapping_name).read_bytes() == (
        MAPPINGS / mapping_name
    ).read_bytes()
    mapping = load_mapping(folder / "mappings" / mapping_name)
    assert mapping.project
    written = [
        line.removeprefix("wrote ")
        for line in result.output.splitlines()
        if line.startswith("wrote ")
    ]
    assert written[:2] == [str(config_path), str(folder / "mappings" / mapping_name)]
    for extra in written[2:]:
        relative = Path(extra).relative_to(folder / "mappings")
        assert Path(extra).read_bytes() == (MAPPINGS / relative).read_bytes()
    assert (mapping.hook is not None) == (len(written) > 2)

    # Each side's keys, every one of them, and its secrets as references.
    text = config_path.read_text(encoding="utf-8")
    every = tomllib.loads(uncomment_every_setting(text))
    assert set(every["source"]) == SOURCE_KEYS[source]
    assert set(every["target"]) == TARGET_KEYS[target]
    secrets = SOURCE_SECRETS[source] + TARGET_SECRETS[target]
    assert sorted(re.findall(r'= "\$env:(\w+)"', text.split("[staging]")[0])) == sorted(secrets)

    # Without the secrets, the target cannot be built, and says which variable is missing.
    for name in secrets:
        monkeypatch.delenv(name, raising=False)
    config = load_config(config_path)
    with pytest.raises(SecretError, match=f"environment variable {TARGET_SECRETS[target][0]}"):
        make_target(config)

    for name in secrets:
        monkeypatch.setenv(name, f"placeholder-{name.lower()}")
    config = load_config(config_path)
    assert (config.source["type"], config.target["type"]) == (source, target)
    assert config.mapping_path == folder / "mappings" / mapping_name
    assert config.staging_url == f"sqlite:///{folder / 'staging.sqlite'}"

    # The target is built from its section (no request is sent while building).
    make_target(config).close()
    # So is the source, as far as it can be without the old tracker's files.
    if source == "trac":
        where = re.escape(str(folder / "path" / "to" / "trac-env"))
        with pytest.raises(SourceError, match=f"no Trac environment at {where}"):
            make_source(config)
    else:
        if source == "csv":
            write_sheet(config_path)
        built = make_source(config)
        assert built.kind == source
        if source == "csv":
            assert built.count() == 1
        built.close()

    # The strongest check that needs no server, on an empty staging.
    checked = run(config_path, "check", "--offline")
    assert checked.exit_code == 0, checked.output + checked.stderr
    assert "0 staged tickets" in checked.output and checked.stderr == ""

    # The next steps: where to go, what to edit, which secrets, which commands.
    hint = result.output.split("next:\n", 1)[1]
    steps = [line.strip() for line in hint.splitlines()]
    assert steps[0] == f"1. cd {folder}"
    assert any("edit migration.toml" in s for s in steps)
    assert any(f"edit mappings/{mapping_name}" in s for s in steps)
    export = next(s for s in steps if "export " in s)
    assert sorted(re.findall(r"(\w+)=\.\.\.", export)) == sorted(set(secrets))
    commands = [s.split(". ", 1)[1].split("  ")[0] for s in steps if "migrator " in s]
    assert commands == ["migrator extract", "migrator check"]


@pytest.mark.parametrize(("source", "target"), SHIPPED, ids=IDS)
def test_every_optional_setting_switched_on_is_accepted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str, target: str
) -> None:
    """A commented setting with a wrong name or a value of the wrong kind fails here."""
    for name in [*SOURCE_SECRETS[source], *TARGET_SECRETS[target], "MIGRATOR_STAGING_PASSWORD"]:
        monkeypatch.setenv(name, "placeholder")
    config_path = tmp_path / "migration.toml"
    text = uncomment_every_setting(render_config(source, target))
    config_path.write_text(text, encoding="utf-8")
    config = load_config(config_path)
    assert config.staging_url.startswith("postgresql://") and config.staging_password
    make_target(config).close()
    if source == "csv":
        write_sheet(config_path)
    # Paths the template can only guess stop the source after its settings were accepted.
    missing = {
        "trac": (SourceError, "no Trac environment"),
        "roundup": (ConfigError, "is not a Roundup tracker home"),
    }
    if source in missing:
        error, message = missing[source]
        with pytest.raises(error, match=message):
            make_source(config)
    else:
        make_source(config).close()


def test_existing_files_are_kept_unless_forced(tmp_path: Path) -> None:
    done = init(tmp_path, "trac", "github")
    assert [p.relative_to(tmp_path).as_posix() for p in done.files] == [
        "migration.toml",
        "mappings/trac-to-github.yaml",
        "mappings/hooks/github.py",
    ]
    assert done.secrets == ["GITHUB_TOKEN"]
    assert done.steps[0] == f"cd {tmp_path}" and "export GITHUB_TOKEN=..." in done.steps[4]
    (tmp_path / "mappings" / "hooks" / "github.py").write_text("# edited\n")
    again = run(None, "init", "--source", "trac", "--target", "github", "--dir", str(tmp_path))
    assert again.exit_code == 2 and "--force" in again.stderr
    assert str(tmp_path / "mappings" / "hooks" / "github.py") in again.stderr
    assert (tmp_path / "mappings" / "hooks" / "github.py").read_text() == "# edited\n"
    forced = run(
        None, "init", "--source", "trac", "--target", "github", "--dir", str(tmp_path), "--force"
    )
    assert forced.exit_code == 0, forced.stderr
    shipped = (MAPPINGS / "hooks" / "github.py").read_bytes()
    assert (tmp_path / "mappings" / "hooks" / "github.py").read_bytes() == shipped


@pytest.mark.parametrize(
    ("source", "target"), [("bugzilla", "redmine"), ("roundup", "github"), ("xlsx", "redmine")]
)
def test_an_unknown_pair_lists_the_pairs_that_exist(
    tmp_path: Path, source: str, target: str
) -> None:
    result = run(None, "init", "--source", source, "--target", target, "--dir", str(tmp_path))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: no template for {source} -> {target} — init knows ")
    for s, t in SHIPPED:
        assert f"{s} -> {t}" in result.stderr
    assert ("--source csv" in result.stderr) == (source == "xlsx")
    assert list(tmp_path.iterdir()) == []


def test_init_help_and_docs_name_every_pair() -> None:
    help_text = run(None, "init", "-h").output
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    configuration = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    for source, target in SHIPPED:
        assert f"{source} -> {target}" in help_text
        for doc in (readme, configuration):
            row = next(
                line for line in doc.splitlines() if f"`--source {source} --target {target}" in line
            )
            named = re.findall(r"`([A-Z_]+)`", row)
            assert named == SOURCE_SECRETS[source] + TARGET_SECRETS[target], row


def test_the_placeholders_the_demo_fills_in() -> None:
    """fixtures/demo.py (make demo) replaces these two lines of the Trac -> Redmine config."""
    text = render_config("trac", "redmine")
    assert '\nenv = "path/to/trac-env"' in text
    assert '\nurl = "https://redmine.example.com"' in text
