"""Element bodies several API tests create: a field mapping and a small flow."""

from __future__ import annotations

from typing import Any

MAPPING: dict[str, Any] = {
    "key": "contacts",
    "name": "Contacts",
    "appSchema": {
        "type": "object",
        "properties": {"email": {"type": "string"}, "fullName": {"type": "string"}},
    },
    "direction": "both",
    "importValue": {
        "email": {"$var": "email"},
        "fullName": {
            "$concat": {"values": [{"$var": "firstname"}, {"$var": "lastname"}], "delimiter": " "}
        },
    },
    "exportValue": {"email": {"$var": "email"}, "firstname": {"$firstName": {"$var": "fullName"}}},
    "frozenImportFields": ["email"],
}


FLOW: dict[str, Any] = {
    "key": "notify",
    "name": "Notify",
    "nodes": {
        "trigger": {"type": "api-trigger", "links": [{"key": "call"}, {"key": "log"}]},
        "call": {
            "type": "custom-http-request",
            "config": {"method": "GET", "url": "https://hooks.example.test/a"},
        },
        "log": {"type": "transform-data", "config": {"value": "sent"}},
    },
}
