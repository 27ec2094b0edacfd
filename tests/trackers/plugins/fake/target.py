"""The fake tracker's target: the Target protocol over the fake server's small REST API.

The origin marker is the issue's ``origin`` field; lookups are scoped to the
project the plan names, as every target's must be.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from migrator.errors import ConfigError, PermanentTargetError
from migrator.http import HttpClient, RateGovernor
from migrator.secrets import Redactor, resolve_secret
from migrator.staging.blobs import BlobStore
from migrator.trackers.protocols import Capabilities, ReadBack, Texts
from migrator.trackers.settings import transport

HELD = ("relates", "blocks", "parent")


class FakeTarget:
    kind = "fake"
    capabilities = Capabilities(set_author=True, set_timestamps=False, set_status_on_create=True)

    def __init__(self, http: HttpClient, blobs: BlobStore):
        self.http = http
        self.blobs = blobs
        self.names: dict[str, list[str]] | None = None
        self.project = ""

    @property
    def requests_sent(self) -> int:
        return self.http.requests_sent

    def describe(self) -> str:
        return f"the fake tracker at {self.http.base_url}"

    def preflight(self, payload_sample: dict[str, Any] | None = None) -> None:
        if self.names is None:
            self.names = self.http.get_json("/names")
            self.project = self.names["project"][0]

    def check_plan(self, names: dict[str, set[str]]) -> list[str]:
        self.preflight()
        assert self.names is not None
        return [
            f"{kind} not in the fake tracker: {', '.join(sorted(wanted - set(self.names[kind])))}"
            for kind, wanted in sorted(names.items())
            if kind in self.names and wanted - set(self.names[kind])
        ]

    def _issues(self, **params: str) -> list[dict[str, Any]]:
        self.preflight()
        found: list[dict[str, Any]] = self.http.get_json(
            "/issues", params={"project": self.project, **params}
        )
        return found

    def find_by_origin(self, origin: str) -> str | None:
        return next((str(i["id"]) for i in self._issues(origin=origin)), None)

    def marked(self, projects: set[str]) -> Iterator[tuple[str, str]]:
        for issue in self._issues():
            if issue.get("origin") and issue["project"] in projects:
                yield str(issue["id"]), issue["origin"]

    def create_ticket(self, payload: dict[str, Any]) -> str:
        body = {
            "origin": payload["origin"],
            **{k: payload[k] for k in ("project", "tracker", "status", "priority", "subject")},
            "description": payload["description"],
            "assignee": payload.get("assignee"),
            "fields": payload.get("custom_fields", {}),
        }
        created = self.http.request("POST", "/issues", json=body, idempotent=False).json()
        tid = str(created["id"])
        self.reconcile(tid, payload)
        return tid

    def reconcile(self, target_id: str, payload: dict[str, Any]) -> None:
        have = {f["name"] for f in self._issue(target_id)["files"]}
        for attachment in payload.get("attachments", []):
            if attachment["name"] not in have:
                with self.blobs.open(attachment["sha256"]) as f:
                    data = f.read()
                self.http.request(
                    "POST",
                    f"/issues/{target_id}/files",
                    params={"name": attachment["name"]},
                    data=data,
                    idempotent=False,
                )

    def _issue(self, target_id: str) -> dict[str, Any]:
        issue: dict[str, Any] = self.http.get_json(f"/issues/{target_id}")
        return issue

    def texts(self, target_id: str) -> Texts:
        issue = self._issue(target_id)
        return Texts(issue["description"], [(str(c["id"]), c["body"]) for c in issue["comments"]])

    def add_comment(self, target_id: str, comment: dict[str, Any]) -> None:
        body = {"body": comment["body"], "author": comment.get("author")}
        self.http.request("POST", f"/issues/{target_id}/comments", json=body, idempotent=False)

    def reference(self, target_id: str) -> str:
        return f"FAKE-{target_id}"

    def inert_reference(self, written: str) -> str:
        return written  # the fake tracker links nothing on its own

    def set_description(self, target_id: str, text: str) -> None:
        self.http.request("PATCH", f"/issues/{target_id}", json={"description": text})

    def edit_comment(self, target_id: str, handle: str, body: str) -> None:
        self.http.request("PATCH", f"/issues/{target_id}/comments/{handle}", json={"body": body})

    def read_back(self, target_id: str) -> ReadBack:
        issue = self._issue(target_id)
        fields = {
            k: issue.get(k)
            for k in ("project", "tracker", "status", "priority", "subject", "description")
        }
        fields |= {
            "assignee": issue.get("assignee"),
            "custom_fields": issue.get("fields", {}),
            "links": sorted(f"{kind} {to}" for kind, to in issue["links"]),
            "parent": str(issue["parent"]) if issue.get("parent") else None,
        }
        files = [
            {"name": f["name"], "size": f["size"], "url": f"/files/{f['id']}"}
            for f in issue["files"]
        ]
        comments = [c["body"] for c in issue["comments"]]
        return ReadBack(target_id, issue.get("origin"), fields, comments, files)

    def attachment_sha256(self, url: str) -> str:
        return hashlib.sha256(self.http.request("GET", url).content).hexdigest()

    def holds(self, kind: str) -> bool:
        return kind in HELD

    def add_link(self, target_id: str, kind: str, other_id: str) -> None:
        if kind not in HELD:
            raise PermanentTargetError(
                f"the fake tracker has no {kind} links",
                remedy="map the link kind to relates or blocks",
            )
        body = {"kind": kind, "to": int(other_id)}
        self.http.request("POST", f"/issues/{target_id}/links", json=body)

    def links(self, target_id: str) -> set[tuple[str, str]]:
        return {(kind, str(to)) for kind, to in self._issue(target_id)["links"]}

    def set_parent(self, target_id: str, parent_id: str) -> None:
        self.http.request("PATCH", f"/issues/{target_id}", json={"parent": int(parent_id)})

    def delete_ticket(self, target_id: str) -> None:
        self.http.send("DELETE", f"/issues/{target_id}", accept=(404,))

    def retire_ticket(self, target_id: str, origin: str) -> None:
        self.http.request(
            "PATCH", f"/issues/{target_id}", json={"origin": None, "status": "Closed"}
        )

    def ticket_url(self, target_id: str) -> str:
        return f"{self.http.base_url}/issues/{target_id}"

    def close(self) -> None:
        self.http.session.close()


def from_config(
    section: dict[str, Any], base: Path, blobs: BlobStore, *, governor: RateGovernor | None = None
) -> FakeTarget:
    url, ref = section.get("url"), section.get("token")
    if not isinstance(url, str) or not isinstance(ref, str):
        raise ConfigError("[target] url and token are required", remedy="see migration.toml")
    token = resolve_secret(ref, base=base, key="[target] token")
    net = transport(section, "[target]", governor)
    what = f"the fake tracker at {url}"
    http = HttpClient(url, {}, Redactor(token), what, net.timeout, governor=net.governor)
    http.session.headers["X-Fake-Token"] = token.reveal()  # not in the headers a repr shows
    return FakeTarget(http, blobs)
