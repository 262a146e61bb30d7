"""Domain errors raised by services; app/errors.py maps them to HTTP."""

from __future__ import annotations

from typing import Any, Self

Said = dict[str, str]  # one message in zh and en


def say(message: Said, **values: Any) -> Said:
    """`message` (templates in zh and en) with its values put in; a value itself said in both
    languages (where a line is: line 3, 第 3 行) goes in each in its own."""
    return {
        lang: text.format(**{k: v[lang] if isinstance(v, dict) else v for k, v in values.items()})
        for lang, text in message.items()
    }


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
