"""Reading an import file: UTF-8, a header row with the expected columns, or one clear reason why not.

Each row comes with the file's own line number (the physical line it starts on: a quoted cell
holding a newline counts its lines, blank lines count), so a reject says where to look in an editor.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

from tikabot.core.spreadsheet import formula_safe, unprefixed


class MalformedFile(Exception):
    """The whole file is unusable; nothing is imported."""


def read_rows(path: Path, columns: tuple[str, ...],
              required: tuple[str, ...]) -> tuple[list[str], list[tuple[int, dict]]]:
    """(header, [(line, row), ...]) with each row's cells stripped and only the known columns kept."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise MalformedFile(f"cannot read {path.name}: {exc.strerror}") from exc
    return rows_from_bytes(raw, path.name, columns, required)


def rows_from_bytes(raw: bytes, name: str, columns: tuple[str, ...],
                    required: tuple[str, ...]) -> tuple[list[str], list[tuple[int, dict]]]:
    """The header and (line, row) pairs of a file's bytes, or MalformedFile with the one reason why not."""
    text = _text(raw, name)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader, [])]
        _check_header(name, header, columns, required)
        rows, line = [], reader.line_num
        for cells in reader:
            start, line = line + 1, reader.line_num
            if not cells:
                continue  # a blank line
            if len(cells) > len(header):
                raise MalformedFile(f"{name} line {start} has more cells than the header")
            record = dict(zip(header, cells))
            rows.append((start, {k: unprefixed((record.get(k) or "").strip()) for k in header if k in columns}))
    except csv.Error as exc:  # a field larger than the csv module takes, say
        raise MalformedFile(f"{name} line {reader.line_num}: {exc}") from exc
    return header, rows


def _text(raw: bytes, name: str) -> str:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MalformedFile(f"{name} is not UTF-8 (byte {exc.start}): save it as CSV UTF-8") from exc
    nul = text.find("\x00")
    if nul >= 0:
        line = len(io.StringIO(text[:nul + 1], newline="").readlines())
        raise MalformedFile(f"{name} line {line} holds a NUL character (a binary or UTF-16 file?): "
                            "save it as CSV UTF-8")
    return text


def _check_header(name: str, header: list[str], columns: tuple[str, ...], required: tuple[str, ...]) -> None:
    if not header or not any(header):
        raise MalformedFile(f"{name} has no header row; expected: {','.join(columns)}")
    twice = sorted({h for h in header if h and header.count(h) > 1})
    if twice:
        raise MalformedFile(f"{name} has column(s) {','.join(twice)} more than once; "
                            f"expected: {','.join(columns)}")
    missing = [c for c in required if c not in header]
    if missing:
        raise MalformedFile(
            f"{name} is missing column(s) {','.join(missing)}; expected: {','.join(columns)}")


def write_rejects(path: Path, header: list[str], rejects: list[tuple[dict, str]]) -> Path:
    """FILE.rejects.csv: the rejected rows with a reason, every cell formula-safe like the export."""
    target = path.with_name(path.stem + ".rejects.csv")
    with target.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        columns = [c for c in header if c]
        writer.writerow([*columns, "reason"])
        for row, reason in rejects:
            writer.writerow([formula_safe(row.get(c, "")) for c in columns] + [formula_safe(reason)])
    return target
