"""What a vendor's OpenAPI description accepts as a request: body schema and query parameters.

Used by `tests/connectors/test_writes.py` to check that a record read from an app and written
back is a request the vendor's description accepts. Checks, for the operation matching the
request's method and path:

- the body validates against the operation's request schema (OpenAPI 3.0's `nullable` read as
  JSON Schema's `null` type; Swagger 2.0 `formData` parameters read as an object schema);
- strictly: no property outside the schema's declared `properties` is sent where the schema
  declares properties and does not open `additionalProperties` (many descriptions leave
  `additionalProperties` out although the vendor refuses unknown fields), and no property the
  schema marks `readOnly` is sent;
- every query parameter is one the operation declares (or, for a description that models an
  endpoint's attributes as a body only, one of the body's properties: Trello takes them in
  either place).
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from jsonschema import Draft4Validator, Draft202012Validator

SPECS = Path(__file__).resolve().parent / "specs"
HTTP_METHODS = ("get", "put", "post", "delete", "patch")


def _nullable(node: Any) -> Any:
    """OpenAPI 3.0's `nullable: true` as JSON Schema (`type: [t, "null"]`), everywhere."""
    if isinstance(node, list):
        return [_nullable(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _nullable(value) for key, value in node.items()}
    if out.pop("nullable", None) is True:
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        elif "$ref" in out or "allOf" in out or "oneOf" in out or "anyOf" in out:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


@dataclass(frozen=True)
class VendorOperation:
    """One operation of a description, as a request is checked against it."""

    template: str
    method: str
    body_schema: dict[str, Any] | None
    query: frozenset[str]


class RequestSchemas:
    """One vendor description, ready to check requests against."""

    def __init__(self, name: str, document: dict[str, Any]) -> None:
        self.name = name
        self.version = str(document.get("openapi") or document.get("swagger") or "")
        self.document = _nullable(document) if self.version.startswith(("3.0", "2")) else document
        self.server_paths = server_paths(document)
        self.query_auth = query_auth(document)
        self.paths = sorted(
            self.document["paths"].items(),
            key=lambda item: -sum("{" not in part for part in item[0].strip("/").split("/")),
        )

    def resolve(self, node: Any) -> Any:
        while isinstance(node, dict) and "$ref" in node:
            target: Any = self.document
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
        return node

    def operation(self, method: str, path: str, base_path: str) -> VendorOperation | None:
        """The operation `method path` (a URL path under the connector's base path) matches."""
        for relative in relative_paths(path, base_path, self.server_paths):
            for template, item in self.paths:
                operation = item.get(method.lower())
                if operation is not None and _pattern(template).match(relative):
                    return self._operation(template, method, item, operation)
        return None

    def _operation(
        self, template: str, method: str, item: dict[str, Any], operation: dict[str, Any]
    ) -> VendorOperation:
        parameters = [
            self.resolve(p) for p in [*item.get("parameters", []), *operation.get("parameters", [])]
        ]
        query = frozenset(p["name"] for p in parameters if p.get("in") == "query")
        return VendorOperation(template, method, self._body_schema(operation, parameters), query)

    def _body_schema(
        self, operation: dict[str, Any], parameters: list[dict[str, Any]]
    ) -> dict[str, Any] | None:
        body = self.resolve(operation.get("requestBody"))
        if isinstance(body, dict):
            content = body.get("content", {})
            for media in ("application/json", "application/x-www-form-urlencoded"):
                if media in content and "schema" in content[media]:
                    schema: dict[str, Any] = content[media]["schema"]
                    return schema
        for parameter in parameters:
            if parameter.get("in") == "body":
                found: dict[str, Any] = parameter["schema"]
                return found
        form = [p for p in parameters if p.get("in") == "formData"]
        if form:
            return {
                "type": "object",
                "properties": {
                    p["name"]: {k: v for k, v in p.items() if k in ("type", "enum", "items")}
                    for p in form
                },
                "required": [p["name"] for p in form if p.get("required")],
            }
        return None

    def problems(self, value: Any, schema: dict[str, Any]) -> list[str]:
        """What is wrong with `value` as a request body of `schema` (empty when accepted)."""
        root = {**schema, "components": self.document.get("components", {})}
        root["definitions"] = self.document.get("definitions", {})
        validator_class = (
            Draft202012Validator if self.version.startswith("3.1") else Draft4Validator
        )
        validator = validator_class(root)
        found = [
            f"{'/'.join(map(str, error.absolute_path)) or '(body)'}: {error.message[:300]}"
            for error in validator.iter_errors(value)
        ]
        self._strict(value, schema, "", found)
        return found

    def _declared(self, schema: Any) -> tuple[dict[str, Any], bool]:
        """(properties, open to others) of a schema, through refs, allOf, oneOf and anyOf: the
        union of the properties declared anywhere; open when one part opens
        `additionalProperties` or nothing is declared at all."""
        schema = self.resolve(schema)
        if not isinstance(schema, dict):
            return {}, True
        properties = dict(schema.get("properties") or {})
        extra = schema.get("additionalProperties")
        is_open = extra is True or isinstance(extra, dict)
        for part in [*schema.get("allOf", []), *schema.get("oneOf", []), *schema.get("anyOf", [])]:
            props, part_open = self._declared(part)
            for key, sub in props.items():
                properties.setdefault(key, sub)
            is_open = is_open or (part_open and bool(props))
        return properties, is_open or not properties

    def _strict(self, value: Any, schema: Any, at: str, found: list[str]) -> None:
        if isinstance(value, list):
            items = self.resolve(schema).get("items") if isinstance(schema, dict) else None
            for index, item in enumerate(value):
                self._strict(item, items, f"{at}[{index}]", found)
            return
        if not isinstance(value, dict):
            return
        properties, is_open = self._declared(schema)
        for key, item in value.items():
            where = f"{at}.{key}" if at else key
            sub = properties.get(key)
            if sub is None:
                if not is_open:
                    found.append(f"{where}: not a property of the request schema")
                continue
            if self.resolve(sub).get("readOnly") is True:
                found.append(f"{where}: read-only in the vendor's description")
            self._strict(item, sub, where, found)


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{[^}/]+\}", template.rstrip("/"))
    return re.compile("^" + "[^/]+".join(re.escape(part) for part in parts) + "/?$")


@lru_cache(maxsize=8)
def load(file_name: str) -> RequestSchemas:
    """A description from `tests/connectors/specs/`, parsed once per process."""
    path = SPECS / file_name
    with path.open() as file:
        if path.suffix == ".json":
            return RequestSchemas(file_name, json.load(file))
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        return RequestSchemas(file_name, yaml.load(file, Loader=loader))


def example_response(schemas: RequestSchemas, template: str, method: str = "get") -> Any:
    """The first JSON example of `method template`'s 2xx answer, as the description shows it."""
    operation = schemas.document["paths"][template][method]
    for status, response in operation.get("responses", {}).items():
        if not str(status).startswith("2"):
            continue
        media = schemas.resolve(response).get("content", {}).get("application/json", {})
        if "example" in media:
            return _parsed(media["example"])
        for example in (media.get("examples") or {}).values():
            return _parsed(schemas.resolve(example).get("value"))
    return None


def _parsed(example: Any) -> Any:
    """Some descriptions (Jira's) give examples as JSON text."""
    return json.loads(example) if isinstance(example, str) else copy.deepcopy(example)


def relative_paths(path: str, base_path: str, server_paths: list[str]) -> list[str]:
    """Where `path` may sit relative to a description's servers, best guess first.

    The connector's base URL may carry a prefix the description does not know (a gateway
    such as `/ex/jira/{cloudId}`), so its leading segments are dropped one at a time.
    """
    if base_path and path.startswith(base_path + "/"):
        rest = path[len(base_path) :]
        segments = base_path.strip("/").split("/")
        bases = ["/" + "/".join(segments[i:]) for i in range(len(segments))] + [""]
        candidates = [base.rstrip("/") + rest for base in bases]
    else:
        candidates = [path]
    return [
        candidate[len(server) :] or "/"
        for candidate in candidates
        for server in server_paths
        if candidate == server or candidate.startswith(server + "/")
    ]


def server_paths(document: dict[str, Any]) -> list[str]:
    """The URL paths of a description's servers (OpenAPI 3) or its `basePath` (Swagger 2)."""
    if "servers" in document:
        urls = [server["url"] for server in document["servers"]]
        return sorted({urlsplit(url).path.rstrip("/") for url in urls})
    return [document.get("basePath", "").rstrip("/")]


def query_auth(document: dict[str, Any]) -> frozenset[str]:
    """Query parameters that carry credentials (API keys `in: query`), not request data."""
    schemes = document.get("components", {}).get("securitySchemes") or document.get(
        "securityDefinitions", {}
    )
    return frozenset(
        s["name"] for s in schemes.values() if s.get("type") == "apiKey" and s["in"] == "query"
    )
