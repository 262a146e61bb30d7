"""Reading uploaded CSV text so that every error can name the line to fix."""

from __future__ import annotations

import csv
import io

from app.services.errors import Invalid


def rows_with_lines(text: str, *, field: str) -> list[tuple[int, list[str]]]:
    """Each row with the line it starts on, as an editor numbers the file.

    Counting rows is not counting lines: a quoted answer may hold newlines. A `csv.Error` (a field over
    the csv module's 128 KiB limit, a stray quote) is the client's file, not a 500: a 422 naming the line.
    """
    # strict: a quote opened and never closed is an error at the end of the file; without it the
    # reader took every later row into that one answer, and the upload "succeeded" without them.
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")), strict=True)
    rows: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for row in reader:
            rows.append((start, row))
            start = reader.line_num + 1
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            raise Invalid(
                f'{field}: line {start}: a quote (") opened here is never closed; '
                f"第 {start} 行的引号没有闭合",
                field=field,
            ) from None
        raise Invalid(f"{field}: line {start}: {exc}", field=field) from None
    return rows


def decode_upload(raw: bytes, *, field: str) -> str:
    """An uploaded file's text: UTF-8 (a BOM allowed), else GB18030, which Excel on Chinese Windows writes."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        raise Invalid(
            "文件既不是 UTF-8 也不是 GB18030 文本。The file is neither UTF-8 nor GB18030 text.", field=field
        ) from None
