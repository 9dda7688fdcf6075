"""The DLT portal's CSV: written by `tikabot dlt export`, read back by `tikabot dlt import`.

One row per template, language and plural form, with the text as the portal registers it
(`{#var#}` for each variable). The district IT officer uploads the rows on the operator's DLT
portal, and once approved copies each template id into `template_id` and imports the file. A
row without an id is simply not approved yet. Every other row is checked in full before
anything is stored: one bad line and nothing is loaded.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

from tikabot.dlt.pattern import dlt_text
from tikabot.dlt.records import CATEGORIES, CONTENT_TYPES, DltRecord, SMS_TYPES
from tikabot.dlt.rules import CATALOG, Brand
from tikabot.dlt.templates import CatalogText, registrable

COLUMNS = ("template_name", "tikabot_key", "language", "form", "category", "content_type", "header",
           "entity_id", "template_content", "variables", "template_id")
ID_DIGITS = re.compile(r"[0-9]{19}")
HEADER = re.compile(r"([A-Za-z]{6})(-[STGP])?")  # operators add -S/-T/-G/-P since May 2025


class BadFile(ValueError):
    """The file as a whole cannot be read (wrong columns, not UTF-8)."""


@dataclass(frozen=True)
class Approved:
    record: DltRecord
    text: str  # the registered {#var#} text


def export_rows(entity_id: str, header: str, category: str = "transactional",
                approved: dict | None = None, brand: Brand = CATALOG) -> list[dict]:
    """The rows for every registrable template, signed with brand; an id already approved is filled
    in only where it was approved for the text written now ((key, language, form) -> (id, text)):
    after a brand or a translation changed, the row is to be registered again, so it has none."""
    approved = approved or {}
    rows = []
    for item in registrable(brand=brand):
        text = dlt_text(item.text)
        template_id, approved_text = approved.get((item.key, item.language, item.form), ("", text))
        rows.append({"template_name": item.name, "tikabot_key": item.key, "language": item.language,
                     "form": item.form, "category": category, "content_type": item.content_type,
                     "header": header, "entity_id": entity_id, "template_content": text,
                     "variables": text.count("{#var#}"),
                     "template_id": template_id if approved_text == text else ""})
    return rows


def write_csv(rows: list[dict], out) -> None:
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)


def _id_problem(what: str, value: str) -> str | None:
    if ID_DIGITS.fullmatch(value):
        return None
    if re.fullmatch(r"[0-9.]+[eE]\+?[0-9]+", value):
        return (f"{what} {value!r} was turned into a number by a spreadsheet: format the column as text "
                f"and paste the 19 digits again")
    return f"{what} must be 19 digits, not {value!r}"


def _category(value: str) -> str | None:
    name = re.sub(r"[\s-]+", "_", value.strip().lower())
    return name if name in CATEGORIES else None


def _check_row(row: dict, known: dict[tuple, CatalogText]) -> tuple[Approved | None, list[str]]:
    get = lambda name: (row.get(name) or "").strip()  # noqa: E731
    if not get("template_id"):
        return None, []  # not approved yet
    problems = []
    form = get("form") or "0"
    item = known.get((get("tikabot_key"), get("language").lower(), form))
    if item is None:
        problems.append(f"unknown template {get('tikabot_key')!r} in language {get('language')!r}"
                        f" (form {form}): export again to see the templates tikabot sends")
    problems += [p for p in (_id_problem("template_id", get("template_id")),
                             _id_problem("entity_id", get("entity_id"))) if p]
    header = HEADER.fullmatch(get("header"))
    if header is None:
        problems.append(f"header must be the 6 registered letters, not {get('header')!r}")
    category = _category(get("category") or "transactional")
    if category is None:
        problems.append(f"category must be one of {', '.join(CATEGORIES)}, not {get('category')!r}")
    if get("content_type") not in CONTENT_TYPES:
        problems.append(f"content_type must be Text or Unicode, not {get('content_type')!r}")
    if item is not None:
        if (row.get("template_content") or "") != dlt_text(item.text):  # spacing counts: not stripped
            problems.append("template_content differs from tikabot's text for this template (the catalog or "
                            "the DLT brand changed, or the portal copy was edited): register the text tikabot dlt export writes now")
        elif get("content_type") in CONTENT_TYPES and get("content_type") != item.content_type:
            problems.append(f"content_type must be {item.content_type} for this text")
    if problems:
        return None, problems
    record = DltRecord(entity_id=get("entity_id"), template_id=get("template_id"), header=header.group(1).upper(),
                       sms_type=SMS_TYPES[category], category=category, content_type=item.content_type,
                       template=item.key, language=item.language, form=item.form)
    return Approved(record, dlt_text(item.text)), []


def read_csv(data: bytes, brand: Brand = CATALOG) -> tuple[list[Approved], list[tuple[int, str]], int]:
    """(approved rows, [(line number, problem)], rows without an id), each text checked against the
    catalog's signed with brand. BadFile if unreadable."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadFile(f"not UTF-8 (byte {exc.start}): save the file as CSV UTF-8") from None
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in ("tikabot_key", "language", "template_content", "template_id", "entity_id", "header",
                           "content_type") if c not in (reader.fieldnames or [])]
    if missing:
        raise BadFile(f"missing column(s): {', '.join(missing)} (start from the file tikabot dlt export writes)")
    known = {(t.key, t.language, str(t.form)): t for t in registrable(brand=brand)}
    approved, problems, waiting = [], [], 0
    seen_ids: dict[str, int] = {}
    seen_keys: dict[tuple, int] = {}
    for row in reader:
        line = reader.line_num
        found, wrong = _check_row(row, known)
        if not found and not wrong:
            waiting += 1
            continue
        if found is not None:
            r = found.record
            for seen, value, what in ((seen_ids, r.template_id, "template_id"),
                                      (seen_keys, (r.template, r.language, r.form), "template")):
                if value in seen:
                    wrong.append(f"the same {what} as line {seen[value]}")
                seen.setdefault(value, line)
        problems += [(line, p) for p in wrong]
        if not wrong:
            approved.append(found)
    return approved, problems, waiting
