"""Field-change history of Roundup issues, which REST does not serve.

It is read from the issue journals through Roundup's Python API in the
tracker home (``[source] tracker_dir``), read-only, beside the REST reads.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from migrator.errors import ConfigError, SourceError
from migrator.model import Change, iso


class Journal:
    """Issue journals read through Roundup's Python API from the tracker home.

    The tracker is opened without a user, which Roundup makes read-only.
    Opening runs the tracker's own ``schema.py`` and detectors, as every
    Roundup tool does, so the Roundup package must be installed here (ideally
    the server's version).
    """

    def __init__(self, home: Path):
        if not (home / "config.ini").is_file():
            raise ConfigError(
                f"{home} is not a Roundup tracker home (no config.ini)",
                where="[source] tracker_dir",
                remedy="point tracker_dir at the folder made by `roundup-admin install`",
            )
        try:
            from roundup import instance  # type: ignore[import-untyped]
        except ImportError:
            raise ConfigError(
                "reading history from tracker_dir needs Roundup's Python package",
                where="[source] tracker_dir",
                remedy="pip install roundup (the server's version), or remove tracker_dir "
                "to extract without history",
            ) from None
        try:
            self.db: Any = instance.open(str(home)).open()
        except Exception as exc:  # the tracker's own code runs here: anything can fail
            raise SourceError(
                f"cannot open the Roundup tracker at {home}: {exc}",
                where="[source] tracker_dir",
                remedy="check that this machine can read the tracker home and its database",
            ) from None
        self.home = home
        self.web = str(self.db.config["TRACKER_WEB"])
        self._labels: dict[tuple[str, str], str] = {}

    def label(self, classname: str, itemid: str) -> str:
        key = (classname, itemid)
        if key not in self._labels:
            try:
                cl = self.db.getclass(classname)
                self._labels[key] = str(cl.get(itemid, cl.labelprop()))
            except (KeyError, IndexError):  # a class or item the schema no longer has
                self._labels[key] = f"{classname}{itemid}"
        return self._labels[key]

    def _user(self, tag: str) -> str:
        # Journals of very old trackers name the user; newer ones hold its id.
        return self.label("user", tag) if tag.isdigit() else tag

    def _text(self, prop: Any, value: Any) -> str | None:
        if value is None or value == [] or value == "":
            return None
        linked = getattr(prop, "classname", None)
        if isinstance(value, list):
            ids = sorted((str(v) for v in value), key=lambda i: (len(i), i))
            return ", ".join(self.label(linked, i) for i in ids) if linked else None
        if linked:
            return self.label(linked, str(value))
        return str(value)

    def changes(self, issue_id: str) -> tuple[list[Change], list[list[Any]]]:
        """Field changes (oldest first) and the journal as JSON-able rows."""
        cl = self.db.getclass("issue")
        props = cl.getprops()
        try:
            entries = self.db.getjournal("issue", issue_id)
        except IndexError:
            raise SourceError(
                f"issue {issue_id} is served over REST but missing from {self.home}",
                where="[source] tracker_dir",
                remedy="point tracker_dir at the home of the tracker that url serves",
            ) from None
        rows = [[str(d), tag, action, _jsonable(params)] for _, d, tag, action, params in entries]
        sets = sorted(
            (e for e in entries if e[3] == "set" and isinstance(e[4], dict)),
            key=lambda e: e[1].get_tuple()[:6],
        )
        current: dict[str, Any] = {}
        changes: list[Change] = []
        # Roundup journals the value *before* each set: walk back from today's values.
        for _, when, tag, _action, params in reversed(sets):
            stamp = iso(_journal_time(when)) or ""
            author = self._user(str(tag))
            for field in sorted(params):
                if field in ("messages", "files"):
                    continue  # comments and attachments, not field changes
                prop = props.get(field)
                if type(prop).__name__ == "Password":
                    continue  # never copy a hash, even an old one
                if field not in current:
                    current[field] = cl.get(issue_id, field) if prop is not None else None
                after = current[field]
                before = params[field]
                if isinstance(after, list) or isinstance(before, tuple):
                    after = list(after or [])
                    added, removed = _multilink_delta(before)
                    before = [i for i in after if i not in added] + removed
                changes.append(
                    Change(stamp, author, field, self._text(prop, before), self._text(prop, after))
                )
                current[field] = before
        changes.reverse()
        return changes, rows

    def close(self) -> None:
        self.db.close()


def _multilink_delta(value: Any) -> tuple[list[str], list[str]]:
    """``(('+', ids), ('-', ids))`` as Roundup journals a multilink change."""
    added: list[str] = []
    removed: list[str] = []
    for part in value or ():
        if isinstance(part, tuple | list) and len(part) == 2:
            (added if part[0] == "+" else removed).extend(str(i) for i in part[1])
    return added, removed


def _journal_time(when: Any) -> datetime:
    # Date.timestamp() counts the fraction of a second twice in Roundup 2.6:
    # build the time from its fields, to whole seconds like REST.
    y, mo, d, h, mi, s = when.get_tuple()[:6]
    return datetime(int(y), int(mo), int(d), int(h), int(mi), int(s), tzinfo=UTC)


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return str(value)
