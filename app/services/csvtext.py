"""Reading uploaded CSV text so that every error can name the line to fix."""

from __future__ import annotations

import csv
import io

from app.services.errors import Invalid, say

SAID = {
    "quote": {
        "zh": '第 {n} 行的引号（"）没有闭合',
        "en": '{field}: line {n}: a quote (") opened here is never closed',
    },
    "unreadable": {"zh": "第 {n} 行无法按 CSV 读取（{why}）", "en": "{field}: line {n}: {why}"},
    "encoding": {
        "zh": "文件既不是 UTF-8 也不是 GB18030 文本，请另存为“CSV UTF-8”后再上传。",
        "en": "The file is neither UTF-8 nor GB18030 text: save it as CSV UTF-8 and upload it again.",
    },
}


def rows_with_lines(text: str, *, field: str) -> list[tuple[int, list[str]]]:
    """Each row with the line it starts on, as an editor numbers the file.

    Counting rows is not counting lines: a quoted answer may hold newlines. A `csv.Error` (a field over
    the csv module's 128 KiB limit, a stray quote) is the client's file, not a 500: a 422 naming the line.
    """
    text = text.lstrip("\ufeff")
    opened = _unclosed_quote(text) if '"' in text else None
    if opened is not None:
        # The reader takes every row after such a quote into that one answer: the upload
        # "succeeded" without the students below it.
        said = say(SAID["quote"], field=field, n=opened)
        raise Invalid(f"{said['en']}; 第 {opened} 行的引号没有闭合", field=field, said=[said])
    reader = csv.reader(io.StringIO(text))
    rows: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for row in reader:
            rows.append((start, row))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise Invalid.of([say(SAID["unreadable"], field=field, n=start, why=exc)], field=field) from None
    return rows


def _unclosed_quote(text: str) -> int | None:
    """The line of a quote that opens a field and is never closed, read as the csv module reads
    (a quote opens a quoted field only at its start; "" inside is a quote). Not the csv module's
    strict mode: that also refuses what it has always taken, `"1, 2" ` and `"ln"(10)`."""
    line, quoted, opened, field_start = 1, False, 0, True
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
        if quoted:
            if c == '"':
                if text.startswith('"', i + 1):
                    i += 2
                    continue
                quoted = False
        elif c == '"' and field_start:
            quoted, opened = True, line
        field_start = not quoted and c in ",\n\r"
        i += 1
    return opened if quoted else None


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
            "文件既不是 UTF-8 也不是 GB18030 文本。The file is neither UTF-8 nor GB18030 text.",
            field=field,
            said=[SAID["encoding"]],
        ) from None
