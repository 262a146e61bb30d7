"""Bodies of the account endpoints."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    label: str = Field(default="", max_length=64)


class TokenResponse(BaseModel):
    token: str
    token_type: Literal["bearer"] = "bearer"


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64)
    role: Literal["student", "ta", "instructor"] = "student"
    password: str | None = Field(default=None, min_length=8, max_length=256)
    display_name: str = Field(default="", max_length=128)


class UserPublic(BaseModel):
    id: int
    name: str
    display_name: str
    role: str
