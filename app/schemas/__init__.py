"""Pydantic request and response bodies (XCreate, XPublic)."""
