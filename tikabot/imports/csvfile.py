"""Reading an import file: UTF-8, a header row with the expected columns, or one clear reason why not."""
from __future__ import annotations

import csv
import io
from pathlib import Path


class MalformedFile(Exception):
    """The whole file is unusable; nothing is imported."""


def read_rows(path: Path, columns: tuple[str, ...], required: tuple[str, ...]) -> tuple[list[str], list[dict]]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise MalformedFile(f"cannot read {path.name}: {exc.strerror}") from exc
    return rows_from_bytes(raw, path.name, columns, required)


def rows_from_bytes(raw: bytes, name: str, columns: tuple[str, ...],
                    required: tuple[str, ...]) -> tuple[list[str], list[dict]]:
    """The header and rows of a file's bytes, or MalformedFile with the one reason why not."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MalformedFile(f"{name} is not UTF-8 (byte {exc.start}): save it as CSV UTF-8") from exc
    try:
        return _rows(text, name, columns, required)
    except csv.Error as exc:  # a NUL byte, a field larger than the csv module takes
        raise MalformedFile(f"{name} is not a readable CSV file: {exc}") from exc


def _rows(text: str, name: str, columns: tuple[str, ...], required: tuple[str, ...]):
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if not header or not any(header):
        raise MalformedFile(f"{name} has no header row; expected: {','.join(columns)}")
    missing = [c for c in required if c not in header]
    if missing:
        raise MalformedFile(
            f"{name} is missing column(s) {','.join(missing)}; expected: {','.join(columns)}")
    reader.fieldnames = header
    rows = []
    for record in reader:
        if None in record:
            raise MalformedFile(f"{name} line {reader.line_num} has more cells than the header")
        rows.append({k: (v or "").strip() for k, v in record.items() if k in columns})
    return header, rows


def write_rejects(path: Path, header: list[str], rejects: list[tuple[dict, str]]) -> Path:
    target = path.with_name(path.stem + ".rejects.csv")
    with target.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        columns = [c for c in header if c]
        writer.writerow([*columns, "reason"])
        for row, reason in rejects:
            writer.writerow([row.get(c, "") for c in columns] + [reason])
    return target
