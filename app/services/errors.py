"""Domain errors raised by services; app/errors.py maps them to HTTP."""

from __future__ import annotations

import re
from typing import Any, Self

Said = dict[str, str]  # one message in zh and en


def say(message: Said, **values: Any) -> Said:
    """`message` (templates in zh and en) with its values put in; a value itself said in both
    languages (where a line is: line 3, 第 3 行) goes in each in its own."""
    return {
        lang: text.format(**{k: v[lang] if isinstance(v, dict) else v for k, v in values.items()})
        for lang, text in message.items()
    }


# pydantic's stock messages, said in Chinese where a page or a caller reads Chinese (the API says
# them in English unless the request asks). First match first: the specific before the general.
_ZH_WORDS = [
    (r"^Value error, ", ""),
    (r"Input should be greater than or equal to (\S+)", r"应不小于 \1"),
    (r"Input should be less than or equal to (\S+)", r"应不大于 \1"),
    (r"Input should be greater than (\S+)", r"应大于 \1"),
    (r"Input should be less than (\S+)", r"应小于 \1"),
    (r"Input should be a valid integer.*", "应是整数"),
    (r"Input should be a finite number.*", "应是有限的数"),
    (r"Input should be a valid number.*", "应是数"),
    (r"Input should be a valid boolean.*", "应是 true 或 false"),
    (r"Input should be a valid string.*", "应是文本"),
    (r"Input should be a valid dictionary.*", "应是 JSON 对象（{...}）"),
    (r"Input should be a valid (list|array|tuple).*", "应是列表（[...]）"),
    (r"Input should be a valid datetime.*", "应是日期时间"),
    (r"String should have at least (\d+) characters?", r"至少 \1 个字符"),
    (r"String should have at most (\d+) characters?", r"最多 \1 个字符"),
    (r"(?:List|Tuple|Dictionary) should have at least (\d+) items?.*", r"至少 \1 项"),
    (r"(?:List|Tuple|Dictionary) should have at most (\d+) items?.*", r"最多 \1 项"),
    (r"Field required", "必填"),
    (r"Extra inputs are not permitted", "没有这一项"),
    (r"Input should be ('[^']*'(?:, '[^']*')*) or ('[^']*')", r"应是 \1 或 \2"),
    (r"params nest deeper than (\d+) levels", r"嵌套超过 \1 层"),
    (r"params hold more than (\d+) values", r"超过 \1 个值"),
]


def in_chinese(message: str) -> str:
    """One of pydantic's stock messages in Chinese (a message it does not know stays as it is)."""
    for english, chinese in _ZH_WORDS:
        message, n = re.subn(english, chinese, message)
        if n and english != _ZH_WORDS[0][0]:
            break
    return message


class ServiceError(Exception):
    status = 400
    field: str | None = None
    location = "body"  # where the field is: body, header, path or query (the 422's loc)

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        location: str | None = None,
        said: list[Said] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.said = said or []  # the message's lines in zh and en, where it has them
        if field is not None:
            self.field = field
        if location is not None:
            self.location = location

    @classmethod
    def of(cls, said: list[Said], **kwargs: Any) -> Self:
        """The error of these lines; its message is their English, as the API has always said it."""
        return cls("; ".join(s["en"] for s in said), said=said, **kwargs)

    def lines(self, lang: str) -> list[str]:
        """What to show, a line each, in `lang` (the message itself where it was not said in both)."""
        return [s[lang] for s in self.said] if self.said else [self.message]


class NotFound(ServiceError):
    status = 404


class Unauthenticated(ServiceError):
    status = 401


class Forbidden(ServiceError):
    status = 403


class Conflict(ServiceError):
    status = 409


class Invalid(ServiceError):
    """Bad input that passed the schema: 422 naming the field."""

    status = 422


class Gone(ServiceError):
    """A stored instance whose family version changed: it can no longer be reproduced exactly."""

    status = 410


class TooManyRequests(ServiceError):
    status = 429
