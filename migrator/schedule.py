"""The master schedule: phases and dates from what staging knows, up to a chosen freeze.

A migration lead is asked for dates long before the load, and the honest
answer depends on the pilot: how many requests each ticket costs (the plan)
and how fast the target took them (the pilot's loads).  This module turns
that into the phases a lead plans — preparation, pilot, batches, delta syncs,
freeze and cut-over, verification, sign-off — on working days (Monday to
Friday) with a daily load window, and says how sure it is: the spread of the
rates the loads measured gives an earliest and a latest end for the batches,
and a load measured while the machine was busy (its load average above its
cores) is named, because it makes the projection pessimistic.

Everything is read from staging (plan, batches, load runs); nothing contacts
a tracker, so a schedule can be drawn up and sent before the target exists.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from migrator.errors import ConfigError
from migrator.estimate import Estimate, estimate
from migrator.staging import Staging

FORMATS = ("md", "xlsx", "ics")
LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Migration schedule",
        "phase": "Phase",
        "start": "Start",
        "end": "End",
        "days": "Working days",
        "note": "Notes",
        "preparation": "Preparation of both trackers",
        "preparation_note": "migrator check --request lists what the target needs",
        "pilot": "Pilot batch {name}",
        "pilot_note": "{tickets} tickets; review the pilot with both teams",
        "batch": "Batch {name}",
        "batch_note": "{tickets} tickets, about {hours} h of loading",
        "sync": "Delta sync",
        "sync_note": "migrator sync: changes made in the old tracker since the load",
        "freeze": "Freeze and cut-over",
        "freeze_note": "old tracker read-only; last sync; redirects",
        "verification": "Verification",
        "verification_note": "migrator verify; reconciliation report",
        "signoff": "Sign-off",
        "signoff_note": "the report to the stakeholders",
        "basis": "Basis",
        "rate_measured": "{rate:.1f} requests/s measured in {runs} load(s) "
        "(spread {low:.1f}–{high:.1f})",
        "rate_rate_limit": "{rate:.1f} requests/s: the configured rate limit "
        "(no load measured yet)",
        "rate_assumed": "{rate:.1f} requests/s assumed (no load measured, no rate limit set)",
        "window": "loading {hours:g} h per working day",
        "range": "batches end between {early} and {late}",
        "busy": "a load was measured while the machine was busy (load {load:.1f} on {cores} "
        "cores): the rate may be too low",
        "late": "the batches cannot end before the freeze on {freeze}: they end on {end}",
        "no_pilot": "no load has been measured: the dates use an assumed rate; run the pilot",
    },
    "ja": {
        "title": "移行スケジュール",
        "phase": "フェーズ",
        "start": "開始",
        "end": "終了",
        "days": "稼働日数",
        "note": "備考",
        "preparation": "移行元・移行先の準備",
        "preparation_note": "移行先に必要な準備は migrator check --request で一覧できます",
        "pilot": "パイロット移行（{name}）",
        "pilot_note": "{tickets} 件。結果を両チームで確認します",
        "batch": "本移行バッチ（{name}）",
        "batch_note": "{tickets} 件、投入時間は約 {hours} 時間",
        "sync": "差分同期",
        "sync_note": "migrator sync：移行後に旧トラッカーで変わった分を反映します",
        "freeze": "凍結・切り替え",
        "freeze_note": "旧トラッカーを読み取り専用にし、最後の同期とリダイレクトを行います",
        "verification": "検証",
        "verification_note": "migrator verify と突合レポート",
        "signoff": "承認",
        "signoff_note": "関係者にレポートを提出し承認を得ます",
        "basis": "前提",
        "rate_measured": "実測 {rate:.1f} リクエスト/秒"
        "（{runs} 回の投入、ばらつき {low:.1f}〜{high:.1f}）",
        "rate_rate_limit": "{rate:.1f} リクエスト/秒（設定したレート上限。実測なし）",
        "rate_assumed": "{rate:.1f} リクエスト/秒（仮定値。実測もレート上限もありません）",
        "window": "1 稼働日あたり {hours:g} 時間投入",
        "range": "本移行バッチの終了見込みは {early}〜{late}",
        "busy": "マシンが混んでいる間に計測した投入があります（{cores} コアで負荷 {load:.1f}）。"
        "実際より遅い見積もりの可能性があります",
        "late": "凍結日 {freeze} までに本移行バッチが終わりません（終了見込み {end}）",
        "no_pilot": "投入の実測がないため仮定の速度で計算しています。"
        "パイロット移行を実施してください",
    },
}


@dataclass
class Phase:
    key: str  # preparation, pilot, batch, sync, freeze, verification, signoff
    name: str
    start: date
    end: date
    days: int
    note: str


@dataclass
class Schedule:
    lang: str
    freeze: date
    phases: list[Phase]
    basis: list[str]
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "freeze": self.freeze.isoformat(),
            "phases": [
                {**p.__dict__, "start": p.start.isoformat(), "end": p.end.isoformat()}
                for p in self.phases
            ],
            "basis": self.basis,
            "warnings": self.warnings,
        }


def working_days_from(day: date, count: int) -> date:
    """The last day of ``count`` working days starting on ``day`` (moved to a weekday)."""
    day = next_working_day(day)
    for _ in range(max(count, 1) - 1):
        day = next_working_day(day + timedelta(days=1))
    return day


def next_working_day(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _load_spread(staging: Staging) -> tuple[list[float], float | None]:
    """Request rates of the loads that did work, and the highest load average seen."""
    rates: list[float] = []
    busiest: float | None = None
    for run in staging.runs("load", "done"):
        summary = run.summary or {}
        seconds = summary.get("seconds") or 0
        if summary.get("requests") and seconds > 0:
            rates.append(summary["requests"] / seconds)
        load = summary.get("load_average")
        if isinstance(load, int | float):
            busiest = max(busiest or 0.0, float(load))
    return rates, busiest


def make_schedule(
    staging: Staging,
    freeze: date,
    *,
    start: date | None = None,
    lang: str = "en",
    hours_per_day: float = 8.0,
    preparation_days: int = 5,
    rate_limit: float | None = None,
) -> Schedule:
    """Phases from ``start`` (today) to sign-off, the batches at the pilot's pace."""
    if lang not in LABELS:
        raise ConfigError(f"unknown language {lang!r}", remedy="use --lang en or --lang ja")
    if not 0 < hours_per_day <= 24:
        raise ConfigError(
            f"--hours-per-day {hours_per_day:g} is not a number of hours in a day",
            remedy="e.g. --hours-per-day 8 (the daily window the target may be loaded in)",
        )
    text = LABELS[lang]
    start = next_working_day(start or datetime.now(UTC).date())
    if freeze <= start:
        raise ConfigError(
            f"the freeze date {freeze.isoformat()} is not after the start {start.isoformat()}",
            remedy="give --freeze a later date (YYYY-MM-DD)",
        )
    est: Estimate = estimate(staging, rate_limit)
    rates, busiest = _load_spread(staging)
    phases: list[Phase] = []

    def add(key: str, name: str, first: date, days: int, note: str) -> date:
        last = working_days_from(first, days)
        phases.append(Phase(key, name, next_working_day(first), last, days, note))
        return next_working_day(last + timedelta(days=1))

    day = add("preparation", text["preparation"], start, preparation_days, text["preparation_note"])
    seconds_per_day = hours_per_day * 3600
    low = min(rates) if rates else est.rate
    high = max(rates) if rates else est.rate
    first_batch: date | None = None
    requests = 0.0
    for i, batch in enumerate(est.batches):
        if batch.remaining_tickets == 0:
            continue
        hours = math.ceil(batch.seconds / 3600 * 10) / 10
        days = max(1, math.ceil(batch.seconds / seconds_per_day))
        if i == 0 and not rates:
            # Nothing measured yet: the first batch is the pilot, then its review with
            # both teams (a day).
            day = add(
                "pilot",
                text["pilot"].format(name=batch.name),
                day,
                days + 1,
                text["pilot_note"].format(tickets=batch.remaining_tickets),
            )
            continue
        first_batch = first_batch or next_working_day(day)
        requests += batch.seconds * est.rate
        day = add(
            "batch",
            text["batch"].format(name=batch.name),
            day,
            days,
            text["batch_note"].format(tickets=batch.remaining_tickets, hours=hours),
        )
    # How sure: the same requests at the fastest and the slowest rate a load measured.
    early = late = None
    if first_batch is not None and requests:
        early = working_days_from(first_batch, math.ceil(requests / high / seconds_per_day))
        late = working_days_from(first_batch, math.ceil(requests / low / seconds_per_day))
    batches_end = phases[-1].end
    warnings: list[str] = []
    if batches_end >= freeze:
        warnings.append(text["late"].format(freeze=freeze.isoformat(), end=batches_end.isoformat()))
    # Delta syncs: one a week between the last batch and the freeze.
    sync = day
    while sync + timedelta(days=7) <= freeze:
        phases.append(Phase("sync", text["sync"], sync, sync, 1, text["sync_note"]))
        sync = next_working_day(sync + timedelta(days=7))
    after = add("freeze", text["freeze"], max(freeze, day), 1, text["freeze_note"])
    after = add("verification", text["verification"], after, 1, text["verification_note"])
    add("signoff", text["signoff"], after, 2, text["signoff_note"])

    basis = [
        text[f"rate_{est.rate_source}"].format(rate=est.rate, runs=len(rates), low=low, high=high)
    ]
    basis.append(text["window"].format(hours=hours_per_day))
    if early and late and early != late:
        basis.append(text["range"].format(early=early.isoformat(), late=late.isoformat()))
    if not rates:
        warnings.append(text["no_pilot"])
    cores = os.cpu_count() or 1
    if busiest is not None and busiest > cores:
        warnings.append(text["busy"].format(load=busiest, cores=cores))
    return Schedule(lang, freeze, phases, basis, warnings)


# ----------------------------------------------------------------------------- outputs


def to_markdown(schedule: Schedule) -> str:
    text = LABELS[schedule.lang]
    lines = [f"# {text['title']}", ""]
    head = [text[k] for k in ("phase", "start", "end", "days", "note")]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for p in schedule.phases:
        cells = [p.name, p.start.isoformat(), p.end.isoformat(), str(p.days), p.note]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    lines += ["", f"**{text['basis']}**", ""]
    lines += [f"- {line}" for line in schedule.basis]
    lines += [f"- ⚠ {line}" for line in schedule.warnings]
    return "\n".join(lines) + "\n"


def to_ics(schedule: Schedule, *, stamp: datetime | None = None) -> str:
    """iCalendar (RFC 5545): one all-day event per phase, stable UIDs so an update replaces."""
    stamp = stamp or datetime.now(UTC)
    out = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//migrator//schedule//EN"]
    for n, p in enumerate(schedule.phases):
        out += [
            "BEGIN:VEVENT",
            f"UID:migrator-{p.key}-{n}-{p.start.isoformat()}@schedule",
            f"DTSTAMP:{stamp.strftime('%Y%m%dT%H%M%SZ')}",
            f"DTSTART;VALUE=DATE:{p.start.strftime('%Y%m%d')}",
            f"DTEND;VALUE=DATE:{(p.end + timedelta(days=1)).strftime('%Y%m%d')}",
            f"SUMMARY:{_ics_text(p.name)}",
            f"DESCRIPTION:{_ics_text(p.note)}",
            "END:VEVENT",
        ]
    out.append("END:VCALENDAR")
    return "\r\n".join(_fold(line) for line in out) + "\r\n"


def _ics_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> str:
    """RFC 5545 folding: lines of at most 75 octets, continued with a space (UTF-8 safe)."""
    data = line.encode("utf-8")
    if len(data) <= 75:
        return line
    parts: list[str] = []
    current = b""
    for ch in line:
        encoded = ch.encode("utf-8")
        if len(current) + len(encoded) > (75 if not parts else 74):
            parts.append(current.decode("utf-8"))
            current = b""
        current += encoded
    parts.append(current.decode("utf-8"))
    return "\r\n ".join(parts)


def write_xlsx(schedule: Schedule, path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    text = LABELS[schedule.lang]
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook always has one sheet
    sheet.title = text["title"][:31]
    sheet.append([text[k] for k in ("phase", "start", "end", "days", "note")])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for p in schedule.phases:
        sheet.append([p.name, p.start, p.end, p.days, p.note])
        for cell in sheet[sheet.max_row][1:3]:
            cell.number_format = "yyyy-mm-dd"
    sheet.append([])
    for line in [*schedule.basis, *schedule.warnings]:
        sheet.append([line])
    for column, width in zip("ABCDE", (34, 12, 12, 12, 70), strict=True):
        sheet.column_dimensions[column].width = width
    book.save(path)


def write(schedule: Schedule, out: Path, formats: tuple[str, ...]) -> list[Path]:
    """Each format into ``out`` (created), written to a temporary name and renamed."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in formats:
        path = out / f"schedule-{schedule.lang}.{fmt}"
        partial = path.with_name(f".{path.name}.partial")
        if fmt == "md":
            partial.write_text(to_markdown(schedule), encoding="utf-8")
        elif fmt == "ics":
            partial.write_bytes(to_ics(schedule).encode("utf-8"))
        else:
            write_xlsx(schedule, partial)
        partial.replace(path)
        written.append(path)
    return written
