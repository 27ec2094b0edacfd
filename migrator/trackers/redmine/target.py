"""Redmine target over its REST API (``X-Redmine-API-Key``).

Redmine cannot set creation times over REST, and can set authors only through
``X-Redmine-Switch-User`` with an admin key, so the plan always writes the
original author and date into the text.  The origin marker is a "Legacy ID"
issue custom field that must be filterable: finding a ticket by origin is one
indexed query, which is what makes crash recovery cheap.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from migrator.errors import ConfigError, TargetError
from migrator.http import RateGovernor
from migrator.secrets import Secret
from migrator.staging.blobs import BlobStore
from migrator.trackers.protocols import Capabilities, ReadBack, Texts
from migrator.trackers.redmine.api import RedmineApi
from migrator.trackers.redmine.config import reach
from migrator.trackers.settings import Transport, transport

# Redmine's relation types for the model's forward link kinds.
RELATION = {
    "blocks": "blocks",
    "precedes": "precedes",
    "duplicates": "duplicates",
    "relates": "relates",
    "copied-to": "copied_to",
}


class RedmineTarget:
    kind = "redmine"

    def __init__(
        self,
        url: str,
        api_key: Secret,
        *,
        blobs: BlobStore,
        legacy_field: str | int = "Legacy ID",
        timeout: float = 30.0,
        governor: RateGovernor | None = None,
    ):
        self.api = RedmineApi(url, api_key, Transport(timeout, governor), side="target")
        self.url = self.api.url
        self.blobs = blobs
        self._legacy = legacy_field
        self._meta: dict[str, dict[str, int]] | None = None
        self._user_logins: dict[int, str] = {}
        self._field_id: int | None = None
        self._closed_status: int | None = None
        self._scoped: dict[tuple[str, str], dict[str, int]] = {}
        self.created_metadata: list[str] = []
        self.capabilities = Capabilities(
            set_author=False, set_timestamps=False, set_status_on_create=False
        )

    def describe(self) -> str:
        return f"Redmine at {self.url}"

    @property
    def requests_sent(self) -> int:
        return self.api.requests_sent

    # -- metadata --------------------------------------------------------
    def preflight(self, payload_sample: dict[str, Any] | None = None) -> None:
        """Check key, admin rights, custom field and metadata once, before any write."""
        if self._meta is not None:
            return
        me = self.api.json("/users/current.json")["user"]
        admin = bool(me.get("admin"))
        self.capabilities = Capabilities(
            set_author=admin, set_timestamps=False, set_status_on_create=False
        )
        statuses = self.api.json("/issue_statuses.json")["issue_statuses"]
        meta = {
            "tracker": {t["name"]: t["id"] for t in self.api.json("/trackers.json")["trackers"]},
            "status": {s["name"]: s["id"] for s in statuses},
            "priority": {
                p["name"]: p["id"]
                for p in self.api.json("/enumerations/issue_priorities.json")["issue_priorities"]
            },
            "user": {},
            "custom_field": {},
        }
        if admin:
            for u in self.api.collection("/users.json", "users"):
                meta["user"][u["login"]] = u["id"]
                self._user_logins[u["id"]] = u["login"]
            for cf in self.api.json("/custom_fields.json")["custom_fields"]:
                if cf.get("customized_type") == "issue":
                    meta["custom_field"][cf["name"]] = cf["id"]
        self._field_id = self._legacy_field_id(admin)
        self._closed_status = next((s["id"] for s in statuses if s.get("is_closed")), None)
        self._meta = meta

    def _legacy_field_id(self, admin: bool) -> int:
        if isinstance(self._legacy, int):
            return self._legacy
        if not admin:
            raise ConfigError(
                "cannot look up the Legacy ID custom field without an admin key",
                remedy="use an admin API key, or set legacy_field = <field id> under [target]",
            )
        for cf in self.api.json("/custom_fields.json")["custom_fields"]:
            if cf["name"] == self._legacy and cf.get("customized_type") == "issue":
                return int(cf["id"])
        raise TargetError(
            f"Redmine has no issue custom field named {self._legacy!r}",
            remedy="create it in Administration > Custom fields (text, for all projects, "
            "used as a filter), or set legacy_field under [target]",
        )

    def check_plan(self, names: dict[str, set[str]]) -> list[str]:
        """Names used by the plan that this Redmine does not have."""
        self.preflight()
        assert self._meta is not None
        problems = []
        for project in sorted(names.get("project", set())):
            found = self.api.send("GET", f"/projects/{project}.json", accept=(404,))
            if found.status_code == 404:
                problems.append(f"project {project!r} not found (or the key cannot see it)")
        kinds = ["tracker", "status", "priority"]
        if self.capabilities.set_author:
            kinds.append("custom_field")  # only an admin key can list custom fields
        for kind in kinds:
            missing = sorted(names.get(kind, set()) - set(self._meta[kind]))
            if missing:
                problems.append(f"{kind} not in Redmine: {', '.join(missing)}")
        if self.capabilities.set_author:
            missing = sorted(names.get("user", set()) - set(self._meta["user"]))
            if missing:
                problems.append(f"users not in Redmine: {', '.join(missing)}")
        return problems

    def _project_ids(self, project: str, kind: str, name: str) -> int:
        """Category or version id in a project, created on first use (idempotent by name)."""
        path, key = {
            "category": (f"/projects/{project}/issue_categories.json", "issue_categories"),
            "version": (f"/projects/{project}/versions.json", "versions"),
        }[kind]
        cache = self._scoped.setdefault((project, kind), {})
        if not cache:
            cache.update({x["name"]: x["id"] for x in self.api.json(path)[key]})
        if name not in cache:
            body = {"issue_category" if kind == "category" else "version": {"name": name}}
            # 422 "already taken" means another run made it: read the list again.
            self.api.send("POST", path, json=body, accept=(422,))
            cache.update({x["name"]: x["id"] for x in self.api.json(path)[key]})
            self.created_metadata.append(f"{kind} {name!r} in {project}")
        return cache[name]

    def _id(self, kind: str, name: str | None) -> int | None:
        assert self._meta is not None
        if name is None:
            return None
        try:
            return self._meta[kind][name]
        except KeyError:
            raise TargetError(
                f"{kind} {name!r} does not exist in Redmine",
                remedy=f"create it in Redmine or change the mapping's {kind} values",
            ) from None

    def _as(self, login: str | None) -> dict[str, str]:
        """Switch-user header when the key may and the user exists."""
        assert self._meta is not None
        if login and self.capabilities.set_author and login in self._meta["user"]:
            return {"X-Redmine-Switch-User": login}
        return {}

    # -- writes ----------------------------------------------------------
    def find_by_origin(self, origin: str) -> str | None:
        self.preflight()
        data = self.api.json(
            "/issues.json", params={"status_id": "*", f"cf_{self._field_id}": origin, "limit": 25}
        )
        for issue in data.get("issues", []):
            for cf in issue.get("custom_fields", []):
                if cf["id"] == self._field_id and cf.get("value") == origin:
                    return str(issue["id"])
        return None

    def marked(self, projects: set[str]) -> Iterator[tuple[str, str]]:
        self.preflight()
        for project in sorted(projects):
            params = {"project_id": project, "status_id": "*", f"cf_{self._field_id}": "*"}
            for issue in self.api.collection("/issues.json", "issues", {**params, "sort": "id"}):
                for cf in issue.get("custom_fields", []):
                    if cf["id"] == self._field_id and cf.get("value"):
                        yield str(issue["id"]), cf["value"]

    def create_ticket(self, payload: dict[str, Any]) -> str:
        self.preflight()
        issue: dict[str, Any] = {
            "project_id": payload["project"],
            "tracker_id": self._id("tracker", payload["tracker"]),
            "status_id": self._id("status", payload["status"]),
            "priority_id": self._id("priority", payload["priority"]),
            "subject": payload["subject"],
            "description": payload["description"],
            "custom_fields": [{"id": self._field_id, "value": payload["origin"]}],
        }
        for name, value in payload.get("custom_fields", {}).items():
            issue["custom_fields"].append({"id": self._id("custom_field", name), "value": value})
        project = payload["project"]
        if payload.get("category"):
            issue["category_id"] = self._project_ids(project, "category", payload["category"])
        if payload.get("version"):
            issue["fixed_version_id"] = self._project_ids(project, "version", payload["version"])
        if payload.get("watchers") and self.capabilities.set_author:
            issue["watcher_user_ids"] = [self._id("user", w) for w in payload["watchers"]]
        uploads = [self._upload(a) for a in payload.get("attachments", [])]
        if uploads:
            issue["uploads"] = uploads
        assignee = self._id("user", payload["assignee"]) if payload.get("assignee") else None
        if assignee is not None:
            issue["assigned_to_id"] = assignee
        issue.update(_attributes(payload))
        response = self.api.send(
            "POST",
            "/issues.json",
            json={"issue": issue},
            headers=self._as(payload.get("author")),
            idempotent=False,
        )
        created = self.api.decode("POST", "/issues.json", response)["issue"]
        tid = str(created["id"])
        self._set_status(tid, created["status"]["name"], payload["status"])
        return tid

    def _upload(self, attachment: dict[str, Any]) -> dict[str, Any]:
        """Send the bytes (streamed from the blob store) and get the token to attach them."""
        with self.blobs.open(attachment["sha256"]) as f:

            def rewound() -> BinaryIO:
                f.seek(0)  # every attempt streams the file from its first byte
                return f

            response = self.api.send(
                "POST",
                "/uploads.json",
                params={"filename": attachment["name"]},
                body=rewound,
                headers={"Content-Type": "application/octet-stream"},
                # An upload that is lost is an orphan Redmine discards, never a duplicate.
            )
        return {
            "token": self.api.decode("POST", "/uploads.json", response)["upload"]["token"],
            "filename": attachment["name"],
            "description": attachment.get("description") or "",
            "content_type": attachment.get("content_type") or "application/octet-stream",
        }

    def reconcile(self, target_id: str, payload: dict[str, Any]) -> None:
        """Finish a ticket found after a crash: status and attachments may be missing."""
        issue = self.api.json(f"/issues/{target_id}.json", params={"include": "attachments"})[
            "issue"
        ]
        have = Counter((a["filename"], a["filesize"]) for a in issue.get("attachments", []))
        missing = []
        for a in payload.get("attachments", []):
            if have[(a["name"], a["size"])] > 0:
                have[(a["name"], a["size"])] -= 1
            else:
                missing.append(self._upload(a))
        if missing:
            self.api.send("PUT", f"/issues/{target_id}.json", json={"issue": {"uploads": missing}})
        self._set_status(target_id, issue["status"]["name"], payload["status"])

    def _set_status(self, target_id: str, current: str, wanted: str | None) -> None:
        # Redmine gives a new issue its tracker's default status whatever the request
        # says, so any other status is a second, idempotent step.
        if wanted and current != wanted:
            self.api.send(
                "PUT",
                f"/issues/{target_id}.json",
                json={"issue": {"status_id": self._id("status", wanted)}},
            )

    def texts(self, target_id: str) -> Texts:
        self.preflight()
        issue = self.api.json(f"/issues/{target_id}.json", params={"include": "journals"})["issue"]
        notes = [(str(j["id"]), j["notes"]) for j in issue.get("journals", []) if j.get("notes")]
        return Texts(issue.get("description") or "", notes)

    def reference(self, target_id: str) -> str:
        return f"#{target_id}"

    def inert_reference(self, written: str) -> str:
        # Redmine's "!" escapes a link and is not shown.
        return f"!{written}" if written.startswith("#") else written

    def set_description(self, target_id: str, text: str) -> None:
        self.api.send("PUT", f"/issues/{target_id}.json", json={"issue": {"description": text}})

    def edit_comment(self, target_id: str, handle: str, body: str) -> None:
        # Redmine 5 deletes a journal whose notes are set blank: never send one.
        if not body.strip():
            raise ValueError("a comment cannot be emptied")
        self.api.send("PUT", f"/journals/{handle}.json", json={"journal": {"notes": body}})

    def add_comment(self, target_id: str, comment: dict[str, Any]) -> None:
        self.preflight()
        self.api.send(
            "PUT",
            f"/issues/{target_id}.json",
            json={"issue": {"notes": comment["body"]}},
            headers=self._as(comment.get("author")),
            idempotent=False,
        )

    def holds(self, kind: str) -> bool:
        return kind == "parent" or kind in RELATION

    def add_link(self, target_id: str, kind: str, other_id: str) -> None:
        body = {"relation": {"issue_to_id": int(other_id), "relation_type": RELATION[kind]}}
        path = f"/issues/{target_id}/relations.json"
        response = self.api.send("POST", path, json=body, idempotent=False, accept=(422,))
        # Redmine keeps one relation per pair of issues and refuses a second (422): when
        # it is this very link, added before, adding it again is a no-op.
        if response.status_code == 422 and (kind, other_id) not in self.links(target_id):
            raise self.api.refusal("POST", path, response)

    def links(self, target_id: str) -> set[tuple[str, str]]:
        kinds = {v: k for k, v in RELATION.items()}
        data = self.api.json(f"/issues/{target_id}/relations.json")
        return {
            (kinds[r["relation_type"]], str(r["issue_to_id"]))
            for r in data.get("relations", [])
            if str(r["issue_id"]) == target_id and r["relation_type"] in kinds
        }

    def set_parent(self, target_id: str, parent_id: str) -> None:
        self.api.send(
            "PUT", f"/issues/{target_id}.json", json={"issue": {"parent_issue_id": int(parent_id)}}
        )

    def delete_ticket(self, target_id: str) -> None:
        self.preflight()
        self.api.send("DELETE", f"/issues/{target_id}.json", accept=(404,))

    def retire_ticket(self, target_id: str, origin: str) -> None:
        """Where deleting is not allowed: close, say why, and free the origin for a reload."""
        self.preflight()
        assert self._meta is not None
        closed = self._closed_status
        issue: dict[str, Any] = {
            "notes": f"Rolled back by migrator: this copy of {origin} is not migrated.",
            "custom_fields": [{"id": self._field_id, "value": f"rolled-back:{origin}"}],
        }
        if closed is not None:
            issue["status_id"] = closed
        self.api.send(
            "PUT",
            f"/issues/{target_id}.json",
            json={"issue": issue},
            accept=(404,),
        )

    # -- reads -----------------------------------------------------------
    def read_back(self, target_id: str) -> ReadBack:
        self.preflight()
        issue = self.api.json(
            f"/issues/{target_id}.json",
            params={"include": "journals,attachments,watchers,relations"},
        )["issue"]
        origin = next(
            (
                cf.get("value")
                for cf in issue.get("custom_fields", [])
                if cf["id"] == self._field_id
            ),
            None,
        )
        assigned = issue.get("assigned_to")
        kinds = {v: k for k, v in RELATION.items()}
        fields = {
            "project": issue["project"]["name"],
            "tracker": issue["tracker"]["name"],
            "status": issue["status"]["name"],
            "priority": issue["priority"]["name"],
            "subject": issue["subject"],
            "description": issue.get("description") or "",
            "assignee": self._user_logins.get(assigned["id"], assigned["name"])
            if assigned
            else None,
            "category": (issue.get("category") or {}).get("name"),
            "version": (issue.get("fixed_version") or {}).get("name"),
            "custom_fields": {
                cf["name"]: cf["value"]
                for cf in issue.get("custom_fields", [])
                if cf["id"] != self._field_id and cf.get("value") not in (None, "", [])
            },
            "watchers": sorted(
                self._user_logins.get(w["id"], w["name"]) for w in issue.get("watchers", [])
            ),
            # Target ids; the verifier turns them into origins with the id map.
            "links": sorted(
                f"{kinds[r['relation_type']]} {r['issue_to_id']}"
                for r in issue.get("relations", [])
                if r["issue_id"] == issue["id"] and r["relation_type"] in kinds
            ),
            "parent": str(issue["parent"]["id"]) if issue.get("parent") else None,
            # In the plan's spelling (engine.ATTRIBUTES), to compare equal.
            "private": "yes" if issue.get("is_private") else "no",
            "start_date": issue.get("start_date"),
            "due_date": issue.get("due_date"),
            "done_ratio": str(issue.get("done_ratio") or 0),
            "estimated_hours": f"{issue['estimated_hours']:g}"
            if issue.get("estimated_hours") is not None
            else None,
        }
        notes = [j["notes"] for j in issue.get("journals", []) if j.get("notes")]
        files = [
            {"name": a["filename"], "size": a["filesize"], "url": a["content_url"]}
            for a in issue.get("attachments", [])
        ]
        return ReadBack(str(issue["id"]), origin, fields, notes, files)

    def attachment_sha256(self, url: str) -> str:
        """Download an attachment (streamed) and hash it: the proof it arrived byte-identical."""
        # Redmine builds content_url from the Host it was asked for (which a proxy may
        # change): only its path is trusted, always sent to the configured server.
        parts = urlsplit(url)
        return self.api.http.sha256(parts.path + (f"?{parts.query}" if parts.query else ""))

    def ticket_url(self, target_id: str) -> str:
        return f"{self.url}/issues/{target_id}"

    def close(self) -> None:
        self.api.close()


def _attributes(payload: dict[str, Any]) -> dict[str, Any]:
    """Issue attributes the plan sets, in Redmine's types (the plan normalised them)."""
    out: dict[str, Any] = {}
    if payload.get("private"):
        out["is_private"] = payload["private"] == "yes"
    for name in ("start_date", "due_date"):
        if payload.get(name):
            out[name] = payload[name]
    if payload.get("done_ratio"):
        out["done_ratio"] = int(payload["done_ratio"])
    if payload.get("estimated_hours"):
        out["estimated_hours"] = float(payload["estimated_hours"])
    return out


def from_config(
    section: dict[str, Any],
    base: Path,
    blobs: BlobStore,
    *,
    governor: RateGovernor | None = None,
) -> RedmineTarget:
    url, key = reach(section, base, "target")
    legacy = section.get("legacy_field", "Legacy ID")
    net = transport(section, "[target]", governor)
    return RedmineTarget(
        url,
        key,
        blobs=blobs,
        legacy_field=legacy,
        timeout=net.timeout,
        governor=net.governor,
    )
