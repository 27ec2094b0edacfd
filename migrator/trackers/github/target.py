"""GitHub Issues target: one repository, over GitHub's REST API.

Where a payload goes:

* ``subject`` is the title and ``description`` the body.  The body ends with
  a hidden line, ``<!-- migrator-origin: trac:demo#12 -->``, the origin
  marker: GitHub issues have no custom fields.
* ``tracker``, ``priority`` and ``category`` become labels (``type: Bug``,
  ``priority: High``, ``component: core``), created on first use.
* ``status``: GitHub has two states.  ``open`` is an open issue; ``closed``,
  ``not planned`` and ``duplicate`` are closed issues with that state reason;
  any other status is an open issue labelled ``status: NAME``.
* ``version`` is the milestone, created on first use; ``assignee`` the one
  assignee, who must be assignable in the repository (GitHub drops others
  silently, so they are refused instead).
* ``comments`` are issue comments, in the token's name: GitHub cannot set
  authors or times, and the plan already names them in each text.
* ``attachments``: REST cannot attach files to issues.  Each file is committed,
  byte for byte, to a branch of the repository (``migrated-attachments``), at
  ``ORIGIN/SHA256/NAME``, and the body links it.  Files are stored before the
  issue is created, so the issue never exists without its links.
* ``blocks`` links are issue dependencies ("blocked by"), the parent a
  sub-issue relation; GitHub has no other kind of relation between issues.
* ``watchers`` and ``custom_fields``: nowhere.  GitHub has no API to subscribe
  someone else to an issue, and issues have no custom fields.

Finding a ticket by origin lists the repository's issues (all states) and
reads the marker in their bodies.  The search API would be one request, but
its index lags behind writes: a lookup after a crash must see an issue
created a second ago, so it must read the issues themselves.  The listing is
kept and extended with the issues updated since, so a load pays for the full
listing once.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from migrator.errors import ConfigError, PermanentTargetError, TargetError
from migrator.http import RateGovernor
from migrator.secrets import Secret, resolve_secret
from migrator.staging.blobs import BlobStore
from migrator.trackers.github.api import API, RAW, GitHubApi
from migrator.trackers.github.body import (
    Body,
    attachment_line,
    attachment_path,
    attachments_footer,
    git_blob_sha,
)
from migrator.trackers.protocols import Capabilities, ReadBack, Texts
from migrator.trackers.settings import Transport, required, transport

BRANCH = "migrated-attachments"
MAX_TEXT = 65536  # characters in an issue body or a comment
MAX_LABEL = 50  # characters in a label name
# How much earlier than the newest issue seen the next listing starts: issues
# written at nearly the same time may carry timestamps slightly out of order.
SINCE_MARGIN_SECONDS = 60
CONFLICT_ATTEMPTS = 3  # a branch moved by another writer while a file was committed

# Labels that carry the payload's names, and the colour each family is created with.
LABELS = {"tracker": "type", "priority": "priority", "category": "component"}
STATUS_LABEL = "status"
COLOURS = {"type": "d73a4a", "priority": "fbca04", "component": "0075ca", "status": "5319e7"}
ROLLED_BACK = "migrator: rolled back"
# Statuses that are GitHub's own states: (state, state_reason).
STATES: dict[str, tuple[str, str | None]] = {
    "open": ("open", None),
    "closed": ("closed", "completed"),
    "not planned": ("closed", "not_planned"),
    "duplicate": ("closed", "duplicate"),
}
REASONS = {"completed": "closed", "not_planned": "not planned", "duplicate": "duplicate"}
HELD = frozenset({"blocks", "parent"})


class GitHubTarget:
    kind = "github"

    def __init__(
        self,
        repo: str,
        token: Secret,
        *,
        blobs: BlobStore,
        url: str = API,
        branch: str = BRANCH,
        attempts: int = 5,
        timeout: float = 30.0,
        governor: RateGovernor | None = None,
    ):
        self.api = GitHubApi(url, repo, token, Transport(timeout, governor, attempts))
        self.url = self.api.url
        self.repo = repo
        self.owner, _, self.name = repo.partition("/")
        self.branch = branch
        self.blobs = blobs
        self._base = self.api.base
        self._ready = False
        self._html = ""  # the repository's web address
        self._labels: set[str] = set()
        self._milestones: dict[str, int] = {}
        self._assignable: dict[str, bool] = {}
        self._ids: dict[str, int] = {}  # issue number -> issue id (relations take ids)
        self._branch_ready = False
        # The listing find_by_origin reads: issue number -> origin, and the newest
        # update seen in it (the next listing starts a little before).
        self._origins: dict[str, str | None] = {}
        self._newest: str | None = None
        # GitHub sets every author and time itself; statuses need a second request.
        self.capabilities = Capabilities(
            set_author=False, set_timestamps=False, set_status_on_create=False
        )

    @property
    def requests_sent(self) -> int:
        return self.api.requests_sent

    def describe(self) -> str:
        return f"GitHub repository {self.repo} at {self.url}"

    # -- metadata --------------------------------------------------------
    def preflight(self, payload_sample: dict[str, Any] | None = None) -> None:
        """Check the token and the repository once, and read its labels and milestones.

        GitHub silently drops labels, milestones and assignees a token without
        push access sends, so such a token is refused here rather than found
        out by verify.
        """
        if self._ready:
            return
        if not (self.owner and self.name) or "/" in self.name:
            raise ConfigError(
                f"[target] repo must be owner/name, not {self.repo!r}",
                remedy='e.g. repo = "example/tracker"',
            )
        repo = self.api.get(self._base)
        if not repo.get("has_issues", True):
            raise TargetError(
                f"issues are disabled in {self.repo}",
                remedy="enable Issues in the repository's settings",
            )
        permissions = repo.get("permissions") or {}
        if permissions and not (permissions.get("push") or permissions.get("admin")):
            raise TargetError(
                f"the token may not write to {self.repo} (GitHub would silently drop labels, "
                "milestones and assignees)",
                remedy="use a token of a user with write access to the repository",
            )
        self._html = str(repo.get("html_url") or f"{self.url}/{self.repo}").rstrip("/")
        self._labels = {str(label["name"]) for label in self.api.pages(f"{self._base}/labels")}
        self._milestones = {
            str(m["title"]): int(m["number"])
            for m in self.api.pages(f"{self._base}/milestones", {"state": "all"})
        }
        self._ready = True

    def check_plan(self, names: dict[str, set[str]]) -> list[str]:
        """Names the plan uses that this repository cannot take."""
        self.preflight()
        problems = []
        if len(names.get("project", set())) > 1:
            problems.append(
                f"several projects ({', '.join(sorted(names['project']))}): the target is one "
                f"repository, {self.repo}; load each project with its own [target] repo"
            )
        long = sorted(
            label
            for field, family in LABELS.items()
            for value in names.get(field, set())
            if len(label := f"{family}: {value}") > MAX_LABEL
        )
        long += sorted(
            f"{STATUS_LABEL}: {s}"
            for s in names.get("status", set())
            if s not in STATES and len(f"{STATUS_LABEL}: {s}") > MAX_LABEL
        )
        if long:
            problems.append(
                f"labels longer than GitHub's {MAX_LABEL} characters: {', '.join(long)}"
            )
        near = sorted(
            s for s in names.get("status", set()) if s not in STATES and s.lower() in STATES
        )
        if near:
            problems.append(
                f"status {', '.join(near)}: GitHub's states are written {', '.join(STATES)} "
                "(any other status is an open issue with a status label)"
            )
        if names.get("custom_field"):
            problems.append(
                "GitHub issues have no custom fields "
                f"({', '.join(sorted(names['custom_field']))}): remove custom_fields from the "
                "mapping and preserve those source fields in the text instead"
            )
        refused = sorted(u for u in names.get("user", set()) if not self._can_assign(u))
        if refused:
            problems.append(
                f"users that cannot be assigned in {self.repo}: {', '.join(refused)} (GitHub "
                "silently drops such assignees); give them access to the repository, or map "
                "them to null in users.map so that the text names them instead"
            )
        return problems

    def _can_assign(self, login: str) -> bool:
        if login not in self._assignable:
            response = self.api.send(
                "GET", f"{self._base}/assignees/{quote(login, safe='')}", accept=(404,)
            )
            response.close()
            self._assignable[login] = response.status_code == 204
        return self._assignable[login]

    def _label(self, name: str, family: str) -> str:
        """The label NAME, created in the repository first if it is new."""
        if name not in self._labels:
            response = self.api.send(
                "POST",
                f"{self._base}/labels",
                json={"name": name, "color": COLOURS.get(family, "ededed")},
                accept=(422,),  # created meanwhile (another worker, an earlier attempt)
            )
            if response.status_code == 422 and "already_exists" not in response.text:
                raise self.api.refusal("POST", f"{self._base}/labels", response)
            response.close()
            self._labels.add(name)
        return name

    def _milestone(self, title: str) -> int:
        """The number of the milestone TITLE, created open if it is new."""
        if title not in self._milestones:
            response = self.api.send(
                "POST", f"{self._base}/milestones", json={"title": title}, accept=(422,)
            )
            if response.status_code == 201:
                self._milestones[title] = int(self.api.json(response)["number"])
            else:  # created meanwhile: read them again
                if "already_exists" not in response.text:
                    raise self.api.refusal("POST", f"{self._base}/milestones", response)
                self._milestones = {
                    str(m["title"]): int(m["number"])
                    for m in self.api.pages(f"{self._base}/milestones", {"state": "all"})
                }
        return self._milestones[title]

    def _labels_for(self, payload: dict[str, Any]) -> list[str]:
        labels = []
        for field, family in LABELS.items():
            if payload.get(field):
                labels.append(self._label(f"{family}: {payload[field]}", family))
        status = payload.get("status")
        if status and status not in STATES:
            labels.append(self._label(f"{STATUS_LABEL}: {status}", STATUS_LABEL))
        return labels

    # -- finding by origin -----------------------------------------------
    def _list_issues(self) -> None:
        """Read the issues updated since the last listing (all of them the first time).

        Sorted by creation, oldest first: issues created or updated while the
        pages are read only push later ones back a place (seen twice), never
        forward (skipped).  Pull requests share the numbering and are skipped.
        """
        params: dict[str, Any] = {"state": "all", "sort": "created", "direction": "asc"}
        if self._newest is not None:
            params["since"] = _earlier(self._newest, SINCE_MARGIN_SECONDS)
        newest = self._newest
        for issue in self.api.pages(f"{self._base}/issues", params):
            if "pull_request" in issue:
                continue
            number = str(issue["number"])
            self._ids[number] = int(issue["id"])
            self._origins[number] = Body.parse(issue.get("body")).origin
            updated = str(issue.get("updated_at") or "")
            if updated and (newest is None or updated > newest):
                newest = updated
        self._newest = newest

    def find_by_origin(self, origin: str) -> str | None:
        self.preflight()
        self._list_issues()
        found = sorted((int(n) for n, o in self._origins.items() if o == origin))
        return str(found[0]) if found else None

    def marked(self, projects: set[str]) -> Iterator[tuple[str, str]]:
        """(issue number, origin) of every issue of the repository that carries a marker.

        The repository is the one project: ``projects`` selects nothing.
        """
        self.preflight()
        for issue in self.api.pages(f"{self._base}/issues", {"state": "all", "sort": "created"}):
            if "pull_request" in issue:
                continue
            origin = Body.parse(issue.get("body")).origin
            if origin:
                yield str(issue["number"]), origin

    # -- writes ----------------------------------------------------------
    def _check_text(self, what: str, text: str) -> None:
        if len(text) > MAX_TEXT:
            raise PermanentTargetError(
                f"{what} has {len(text)} characters; GitHub takes at most {MAX_TEXT}",
                remedy="shorten it with a mapping hook (or move the long part to an "
                "attachment), then `migrator plan` and `migrator load --retry-failed`",
            )

    def create_ticket(self, payload: dict[str, Any]) -> str:
        """Attachments first (committed to the branch), then the issue that links them, in
        one request; a closed status is a second, idempotent request."""
        self.preflight()
        origin = payload["origin"]
        if "-->" in origin or "\n" in origin:
            raise PermanentTargetError(
                f"origin {origin!r} cannot be written in an HTML comment",
                remedy="report this: origins are made by migrator's sources",
            )
        assignee = payload.get("assignee")
        if assignee and not self._can_assign(assignee):
            raise PermanentTargetError(
                f"{assignee} cannot be assigned issues in {self.repo}",
                remedy="give them access to the repository, or map them to null in users.map",
            )
        lines = [self._store(origin, a) for a in payload.get("attachments", [])]
        footer = attachments_footer(self.branch, lines)
        body = Body(payload["description"], [], origin, footer).render()
        self._check_text(f"the description of {origin}", body)
        issue: dict[str, Any] = {"title": payload["subject"], "body": body}
        labels = self._labels_for(payload)
        if labels:
            issue["labels"] = labels
        if payload.get("version"):
            issue["milestone"] = self._milestone(payload["version"])
        if assignee:
            issue["assignees"] = [assignee]
        response = self.api.send("POST", f"{self._base}/issues", json=issue, idempotent=False)
        created = self.api.json(response)
        number = str(created["number"])
        self._ids[number] = int(created["id"])
        self._origins[number] = origin
        self._set_state(number, payload["status"], created)
        return number

    def _set_state(self, number: str, status: str, issue: dict[str, Any]) -> None:
        """Close (or reopen) the issue as STATUS says, unless it already is."""
        state, reason = STATES.get(status, ("open", None))
        if issue.get("state") == state and (state == "open" or issue.get("state_reason") == reason):
            return
        change: dict[str, Any] = {"state": state}
        if reason is not None:
            change["state_reason"] = reason
        self.api.send("PATCH", f"{self._base}/issues/{number}", json=change).close()

    def _issue(self, number: str) -> dict[str, Any]:
        issue: dict[str, Any] = self.api.get(f"{self._base}/issues/{number}")
        self._ids[number] = int(issue["id"])
        return issue

    def reconcile(self, target_id: str, payload: dict[str, Any]) -> None:
        """Finish an issue found after a crash: its state is the step after the create."""
        self.preflight()
        self._set_state(target_id, payload["status"], self._issue(target_id))

    def _store(self, origin: str, attachment: dict[str, Any]) -> str:
        """Commit the attachment's bytes to the branch (unless there already) and return the
        line that links it from the issue body."""
        with self.blobs.open(attachment["sha256"]) as f:
            data = f.read()
        path = attachment_path(origin, attachment["sha256"], attachment["name"])
        self._ensure_branch()
        url = f"/contents/{quote(path, safe='/')}"
        for _ in range(CONFLICT_ATTEMPTS):
            if self._stored(path, data):
                break
            response = self.api.send(
                "PUT",
                f"{self._base}{url}",
                json={
                    "message": f"{origin}: {attachment['name']} (migrated attachment)",
                    "content": base64.b64encode(data).decode("ascii"),
                    "branch": self.branch,
                },
                # 409: the branch moved under us; 422: the file is there (a lost answer).
                accept=(409, 422),
            )
            response.close()
            if response.status_code < 400:
                break
        else:
            if not self._stored(path, data):
                raise PermanentTargetError(
                    f"could not commit {path} to the {self.branch} branch of {self.repo}",
                    remedy="stop other writers to that branch, then `migrator load --retry-failed`",
                )
        link = f"{self._html}/blob/{quote(self.branch, safe='/')}/{quote(path, safe='/')}"
        description = str(attachment.get("description") or "")
        return attachment_line(attachment["name"], link, attachment["size"], description)

    def _file_info(self, path: str) -> Any:
        """The contents API's record of PATH in the branch (sha, size...), or None."""
        response = self.api.send(
            "GET",
            f"{self._base}/contents/{quote(path, safe='/')}",
            params={"ref": self.branch},
            accept=(404,),
        )
        if response.status_code == 404:
            response.close()
            return None
        return self.api.json(response)

    def _stored(self, path: str, data: bytes) -> bool:
        """Whether the branch holds exactly these bytes at PATH (refused if other bytes)."""
        info = self._file_info(path)
        if info is None:
            return False
        sha = info.get("sha")
        if sha != git_blob_sha(data):
            raise PermanentTargetError(
                f"{path} in the {self.branch} branch of {self.repo} holds other bytes",
                remedy="someone changed the migrated file: restore it from the source, or "
                "delete it so migrator commits it again",
            )
        return True

    def _ensure_branch(self) -> None:
        """The attachment branch: a branch of its own, with no history of the code.

        Its first commit holds a README saying what the branch is; the files
        are committed to it one by one.
        """
        if self._branch_ready:
            return
        ref = f"{self._base}/git/ref/heads/{quote(self.branch, safe='/')}"
        response = self.api.send("GET", ref, accept=(404,))
        response.close()
        if response.status_code == 404:
            readme = (
                "# Migrated attachments\n\n"
                "Files attached to tickets of the old tracker, committed byte for byte by "
                "migrator (GitHub issues cannot hold files).  Each issue links its files; "
                "the path is ORIGIN/SHA256/NAME.\n"
            )
            tree = self.api.json(
                self.api.send(
                    "POST",
                    f"{self._base}/git/trees",
                    json={
                        "tree": [
                            {
                                "path": "README.md",
                                "mode": "100644",
                                "type": "blob",
                                "content": readme,
                            }
                        ]
                    },
                )
            )
            commit = self.api.json(
                self.api.send(
                    "POST",
                    f"{self._base}/git/commits",
                    json={
                        "message": "Branch for attachments migrated by migrator",
                        "tree": tree["sha"],
                        "parents": [],
                    },
                )
            )
            created = self.api.send(
                "POST",
                f"{self._base}/git/refs",
                json={"ref": f"refs/heads/{self.branch}", "sha": commit["sha"]},
                accept=(422,),  # created meanwhile by another worker
            )
            created.close()
        self._branch_ready = True

    def texts(self, target_id: str) -> Texts:
        self.preflight()
        description = Body.parse(self._issue(target_id).get("body")).description
        return Texts(description, self._comments(target_id))

    def _comments(self, number: str) -> list[tuple[str, str]]:
        return [
            (str(c["id"]), str(c.get("body") or ""))
            for c in self.api.pages(f"{self._base}/issues/{number}/comments")
        ]

    def add_comment(self, target_id: str, comment: dict[str, Any]) -> None:
        """A comment in the token's name: the text names the original author and time."""
        self.preflight()
        self._check_text(f"comment {comment.get('key', '')}", comment["body"])
        self.api.send(
            "POST",
            f"{self._base}/issues/{target_id}/comments",
            json={"body": comment["body"]},
            idempotent=False,
        ).close()

    def reference(self, target_id: str) -> str:
        return f"#{target_id}"

    def inert_reference(self, written: str) -> str:
        """``#12`` as a code span: GitHub links ``#N`` to its own issue N everywhere but in
        code.  A backslash (``\\#12``) only escapes Markdown, not GitHub's reference
        linking, and invisible characters would survive copy and paste into searches;
        a code span shows the old reference as written, visibly not a link."""
        if not re.search(r"#\d", written):
            return written  # "ticket:12" and the like: GitHub does not link them
        fence = "``" if "`" in written else "`"
        pad = " " if "`" in written else ""
        return f"{fence}{pad}{written}{pad}{fence}"

    def set_description(self, target_id: str, text: str) -> None:
        """The body with a new description; the attachment list and the marker stay."""
        self.preflight()
        body = Body.parse(self._issue(target_id).get("body"))
        body.description = text
        rendered = body.render()
        self._check_text(f"the description of issue {target_id}", rendered)
        self.api.send("PATCH", f"{self._base}/issues/{target_id}", json={"body": rendered}).close()

    def edit_comment(self, target_id: str, handle: str, body: str) -> None:
        self._check_text(f"comment {handle}", body)
        self.api.send(
            "PATCH", f"{self._base}/issues/comments/{handle}", json={"body": body}
        ).close()

    # -- relations -------------------------------------------------------
    def holds(self, kind: str) -> bool:
        """``blocks`` (issue dependencies) and ``parent`` (sub-issues); nothing else."""
        return kind in HELD

    def _id(self, number: str) -> int:
        if number not in self._ids:
            self._issue(number)
        return self._ids[number]

    def add_link(self, target_id: str, kind: str, other_id: str) -> None:
        """TARGET blocks OTHER: OTHER is "blocked by" TARGET in GitHub's terms."""
        if kind != "blocks":
            raise PermanentTargetError(
                f"GitHub issues cannot hold a {kind!r} link (from #{target_id} to #{other_id})",
                remedy="GitHub holds blocks (dependencies) and parents (sub-issues) only; "
                "preserve the source's links in the text",
            )
        self.preflight()
        response = self.api.send(
            "POST",
            f"{self._base}/issues/{other_id}/dependencies/blocked_by",
            json={"issue_id": self._id(target_id)},
            idempotent=False,
            accept=(422,),
        )
        response.close()
        if response.status_code == 422 and ("blocks", other_id) not in self.links(target_id):
            raise self.api.refusal("POST", f"{self._base}/issues/{other_id}/dependencies", response)

    def links(self, target_id: str) -> set[tuple[str, str]]:
        """The issues this one blocks."""
        self.preflight()
        return {
            ("blocks", str(issue["number"]))
            for issue in self.api.pages(f"{self._base}/issues/{target_id}/dependencies/blocking")
        }

    def _parent(self, issue: dict[str, Any], number: str) -> str | None:
        """The parent's number: from ``parent_issue_url`` when GitHub includes it."""
        if "parent_issue_url" in issue:
            url = issue.get("parent_issue_url")
            return str(url).rstrip("/").rsplit("/", 1)[-1] if url else None
        response = self.api.send("GET", f"{self._base}/issues/{number}/parent", accept=(404,))
        if response.status_code == 404:
            response.close()
            return None
        return str(self.api.json(response)["number"])

    def set_parent(self, target_id: str, parent_id: str) -> None:
        """Make the issue a sub-issue of PARENT (moving it from another parent)."""
        self.preflight()
        current = self._parent(self._issue(target_id), target_id)
        if current == parent_id:
            return
        change: dict[str, Any] = {"sub_issue_id": self._id(target_id)}
        if current is not None:
            change["replace_parent"] = True
        response = self.api.send(
            "POST",
            f"{self._base}/issues/{parent_id}/sub_issues",
            json=change,
            accept=(422,),
        )
        response.close()
        if (
            response.status_code == 422
            and self._parent(self._issue(target_id), target_id) != parent_id
        ):
            raise self.api.refusal("POST", f"{self._base}/issues/{parent_id}/sub_issues", response)

    # -- reads -----------------------------------------------------------
    def read_back(self, target_id: str) -> ReadBack:
        self.preflight()
        issue = self._issue(target_id)
        body = Body.parse(issue.get("body"))
        labels = sorted(str(label["name"]) for label in issue.get("labels") or [])

        def family(prefix: str) -> str | None:
            values = [n[len(prefix) + 2 :] for n in labels if n.startswith(f"{prefix}: ")]
            return ", ".join(values) or None

        if issue.get("state") == "closed":
            status: str | None = REASONS.get(str(issue.get("state_reason")), "closed")
        else:
            status = family(STATUS_LABEL) or "open"
        assignees = [str(a["login"]) for a in issue.get("assignees") or []]
        milestone = issue.get("milestone") or {}
        fields: dict[str, Any] = {
            "project": self.repo,
            "subject": issue.get("title") or "",
            "description": body.description,
            "tracker": family(LABELS["tracker"]),
            "priority": family(LABELS["priority"]),
            "category": family(LABELS["category"]),
            "status": status,
            "version": milestone.get("title"),
            "assignee": ", ".join(assignees) or None,
            # Target ids, as the verifier expects them.
            "links": sorted(f"{kind} {other}" for kind, other in self.links(target_id)),
            "parent": self._parent(issue, target_id),
        }
        comments = [text for _, text in self._comments(target_id)]
        files = [
            {"name": name, "size": self._size(url), "url": url} for name, url in body.attachments
        ]
        return ReadBack(target_id, body.origin, fields, comments, files)

    def _path_of(self, url: str) -> str | None:
        """The repository path an attachment link points to, if it points into the branch."""
        prefix = f"{self._html}/blob/{quote(self.branch, safe='/')}/"
        return unquote(url[len(prefix) :]) if url.startswith(prefix) else None

    def _size(self, url: str) -> int | None:
        path = self._path_of(url)
        info = self._file_info(path) if path is not None else None
        size = info.get("size") if info is not None else None
        return int(size) if isinstance(size, int) else None

    def attachment_sha256(self, url: str) -> str:
        """Download the file the issue links, as raw bytes from the branch, and hash them."""
        path = self._path_of(url)
        if path is None:
            raise TargetError(
                f"{url} is not a file of the {self.branch} branch of {self.repo}",
                remedy="the issue's attachment list was edited; restore the link",
            )
        return self.api.http.sha256(
            f"{self._base}/contents/{quote(path, safe='/')}",
            params={"ref": self.branch},
            headers={"Accept": RAW},
        )

    # -- rollback --------------------------------------------------------
    def delete_ticket(self, target_id: str) -> None:
        raise TargetError(
            f"GitHub's REST API cannot delete issues (#{target_id} in {self.repo})",
            remedy="use `migrator rollback --close`: it closes the issues as not planned, "
            "labels them and clears their origin marker",
        )

    def retire_ticket(self, target_id: str, origin: str) -> None:
        """Close as not planned, label it, and mark it ``rolled-back:ORIGIN`` (free for a
        reload)."""
        self.preflight()
        issue = self._issue(target_id)
        body = Body.parse(issue.get("body"))
        body.origin = f"rolled-back:{origin}"
        labels = sorted(
            {str(label["name"]) for label in issue.get("labels") or []}
            | {self._label(ROLLED_BACK, "")}
        )
        change: dict[str, Any] = {"body": body.render(), "labels": labels}
        if issue.get("state") != "closed":
            change.update(state="closed", state_reason="not_planned")
        self.api.send("PATCH", f"{self._base}/issues/{target_id}", json=change).close()
        self._origins[target_id] = body.origin

    def ticket_url(self, target_id: str) -> str:
        return f"{self._html or self.url + '/' + self.repo}/issues/{target_id}"

    def close(self) -> None:
        self.api.close()


def _earlier(stamp: str, seconds: int) -> str:
    """An ISO 8601 UTC time (``2024-05-01T12:00:00Z``) made ``seconds`` earlier."""
    when = datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(UTC)
    return (when - timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def from_config(
    section: dict[str, Any],
    base: Path,
    blobs: BlobStore,
    *,
    governor: RateGovernor | None = None,
) -> GitHubTarget:
    """``[target]`` with ``type = "github"``: repo ("owner/name"), token (a secret
    reference), and optionally url (the API, default https://api.github.com),
    attachments_branch, timeout (seconds) and rate_limit (requests per second)."""
    repo = section.get("repo")
    if not isinstance(repo, str) or not re.fullmatch(r"[\w.-]+/[\w.-]+", repo):
        raise ConfigError(
            f"[target] repo must be the repository as owner/name, not {repo!r}",
            remedy='e.g. repo = "example/tracker"',
        )
    ref = required(section, "token", "target", "GitHub", "$env:GITHUB_TOKEN")
    url = section.get("url", API)
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ConfigError(
            f"[target] url must be GitHub's REST API address, not {url!r}",
            remedy=f'leave it out for GitHub ("{API}"), or "https://HOST/api/v3" for '
            "GitHub Enterprise Server",
        )
    branch = section.get("attachments_branch", BRANCH)
    if not isinstance(branch, str) or not re.fullmatch(r"[\w.-]+(/[\w.-]+)*", branch):
        raise ConfigError(
            f"[target] attachments_branch must be a branch name, not {branch!r}",
            remedy=f'leave it out (default "{BRANCH}")',
        )
    token = resolve_secret(ref, base=base, key="[target] token")
    net = transport(section, "[target]", governor)
    return GitHubTarget(
        repo,
        token,
        blobs=blobs,
        url=url,
        branch=branch,
        timeout=net.timeout,
        governor=net.governor,
    )
