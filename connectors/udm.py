"""Unified data models: shapes shared across apps so universal elements work everywhere."""

from __future__ import annotations

from typing import Any

_STR = {"type": "string"}
_TIME = {"type": "string", "format": "date-time"}


def _model(title: str, properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "title": title,
        "type": "object",
        "properties": {"id": _STR, **properties, "createdTime": _TIME, "updatedTime": _TIME},
    }


UNIFIED_MODELS: dict[str, dict[str, Any]] = {
    "contacts": _model(
        "Contact",
        {
            "fullName": _STR,
            "firstName": _STR,
            "lastName": _STR,
            "email": {"type": "string", "format": "email"},
            "phone": _STR,
            "companyName": _STR,
            "jobTitle": _STR,
        },
    ),
    "companies": _model("Company", {"name": _STR, "domain": _STR, "industry": _STR}),
    "deals": _model(
        "Deal",
        {
            "name": _STR,
            "amount": {"type": "number"},
            "currency": _STR,
            "stage": _STR,
            "closeDate": _STR,
            "companyId": _STR,
        },
    ),
    "tasks": _model(
        "Task",
        {
            "title": _STR,
            "description": _STR,
            "status": _STR,
            "assigneeId": _STR,
            "dueDate": _STR,
            "projectId": _STR,
            "url": _STR,
        },
    ),
    "users": _model("User", {"name": _STR, "email": _STR, "isActive": {"type": "boolean"}}),
    "notes": _model("Note", {"content": _STR, "title": _STR, "authorId": _STR}),
}
