"""OpenAPI operations → connector operations.

Key from `operationId` (kebab-case, unique, at most 64 characters) or method and path; name
from `summary`; `readOnly` for GET. Inputs: path, query and header parameters keep their names
(only path parameters are made template-safe, since they go through `{{ input.x }}`);
parameters that carry credentials are left to the auth option; cookie parameters are left
out. Query and header values are `{$var: input.<name>}` formulas, so absent inputs are left
out of the request. Request bodies: see `bodies`. The output schema is the first 2xx JSON
response's.
"""

from __future__ import annotations

import re
from typing import Any

from connectors.openapi.bodies import Skipped, body_mapping, pick_media, read_body
from connectors.openapi.document import Document, OpenApiProblem, join
from connectors.openapi.naming import InputNames, KeyAllocator, input_locator, placeholder
from connectors.openapi.schemas import INPUT_BUDGET, OUTPUT_BUDGET, SchemaConverter
from connectors.openapi.security import AuthParameters

__all__ = ["METHODS", "OperationBuilder", "Skipped"]

METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
_SUPPORTED = frozenset({"get", "put", "post", "delete", "patch"})
_LOCATIONS = frozenset({"path", "query", "header", "cookie"})
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
_DELIMITERS = {"form": ",", "simple": ",", "spaceDelimited": " ", "pipeDelimited": "|"}


class OperationBuilder:
    """Builds the connector operations (as camelCase dicts) of one document."""

    def __init__(
        self,
        document: Document,
        schemas: SchemaConverter,
        auth: AuthParameters,
        *,
        version_30: bool,
    ) -> None:
        self._document = document
        self._schemas = schemas
        self._auth = auth
        self._version_30 = version_30
        self._keys = KeyAllocator("operation")
        self.notes: list[str] = []

    def build(self, path: str, method: str, item: dict[str, Any]) -> dict[str, Any]:
        """The operation for `method path`.

        Raises:
            Skipped: The runtime cannot send it (method, body media type).
            OpenApiProblem: The description is malformed here.
        """
        item_at = join("paths", path)
        where = join(item_at, method)
        operation = self._document.mapping(item[method], where, required=True)
        if method not in _SUPPORTED:
            raise Skipped(f"{method.upper()} is not a method connector operations can use")
        names = InputNames()
        properties: dict[str, Any] = {}
        required: list[str] = []
        request: dict[str, Any] = {"method": method.upper()}
        parameters = [
            *self._parameter_list(item, join(item_at, "parameters")),
            *self._parameter_list(operation, join(where, "parameters")),
        ]
        rendered_path = self._parameters(
            path, parameters, where, names, properties, required, request
        )
        request["path"] = _server_prefix(item, operation) + rendered_path
        body = read_body(self._document, self._schemas, operation, where, self.notes)
        if body is not None:
            request["body"] = body_mapping(body, names, properties, required, self._auth)
            if body.format == "form":
                request["bodyFormat"] = "form"
        input_schema: dict[str, Any] = {"type": "object", "properties": properties}
        if required:
            input_schema["required"] = required
        built: dict[str, Any] = {
            "key": self._keys.take(operation.get("operationId"), f"{method} {path}"),
            "name": _name(operation, method, path),
            "description": operation.get("description") or None,
            "docsUrl": (operation.get("externalDocs") or {}).get("url"),
            "readOnly": method == "get",
            "inputSchema": input_schema,
            "outputSchema": self._output_schema(operation, where),
            "request": request,
        }
        return {key: value for key, value in built.items() if value is not None}

    # -- parameters ---------------------------------------------------------------------

    def _parameters(
        self,
        path: str,
        parameters: list[tuple[dict[str, Any], dict[str, Any]]],
        where: str,
        names: InputNames,
        properties: dict[str, Any],
        required: list[str],
        request: dict[str, Any],
    ) -> str:
        """Adds parameter inputs and the query/header mapping; returns the templated path."""
        path_inputs: dict[str, str] = {}
        # The operation's parameters override the path item's with the same name and `in`.
        merged = {(p["name"], p["in"]): (p, schema) for p, schema in parameters}
        for parameter, schema in merged.values():
            location, name = parameter["in"], parameter["name"]
            if self._auth.covers(location, name):
                continue
            if location == "cookie":
                self.notes.append(f"{where}: cookie parameter {name!r} left out")
                continue
            if location != "path" and name.startswith("$"):
                raise Skipped(f"parameter {name!r} cannot be a key of a formula mapping")
            input_name = names.take(name, location)
            properties[input_name] = schema
            if location == "path" or parameter.get("required") is True:
                required.append(input_name)
            if location == "path":
                path_inputs[name] = input_name
            else:
                mapping = request.setdefault("query" if location == "query" else "headers", {})
                mapping[name] = _parameter_value(parameter, schema, input_locator(input_name))

        def to_input(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in path_inputs:
                # Declared in the template but not among the parameters: a required string.
                path_inputs[name] = names.take(name, "path")
                properties[path_inputs[name]] = {"type": "string"}
                required.append(path_inputs[name])
            return placeholder("input", path_inputs[name])

        return _PLACEHOLDER.sub(to_input, path)

    def _parameter_list(
        self, owner: dict[str, Any], at: str
    ) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """The parameters declared at `at`, each with its input schema."""
        raw = owner.get("parameters") or []
        if not isinstance(raw, list):
            raise OpenApiProblem(at, "must be a list of parameters")
        found = []
        for index, entry in enumerate(raw):
            parameter = self._document.mapping(entry, join(at, index), required=True)
            if not isinstance(parameter.get("name"), str) or parameter.get("in") not in _LOCATIONS:
                raise OpenApiProblem(
                    join(at, index), "needs a `name` and an `in` of path, query, header or cookie"
                )
            found.append((parameter, self._parameter_schema(parameter, join(at, index))))
        return found

    def _parameter_schema(self, parameter: dict[str, Any], path: str) -> dict[str, Any]:
        raw, at = parameter.get("schema"), join(path, "schema")
        if raw is None and isinstance(parameter.get("content"), dict) and parameter["content"]:
            media, content = next(iter(parameter["content"].items()))
            raw, at = (content or {}).get("schema"), join(path, "content", media, "schema")
        schema = self._schemas.convert(raw if raw is not None else {}, at, budget=INPUT_BUDGET)
        extra = {k: parameter[k] for k in ("description", "deprecated") if parameter.get(k)}
        return {**schema, **extra} if extra else schema

    # -- response -----------------------------------------------------------------------

    def _output_schema(self, operation: dict[str, Any], where: str) -> dict[str, Any] | None:
        at = join(where, "responses")
        responses = operation.get("responses")
        if responses is None and not self._version_30:
            return None
        # YAML reads `200:` as a number.
        by_code = {
            str(c): r for c, r in self._document.mapping(responses, at, required=True).items()
        }
        for code in sorted(by_code, key=lambda c: (c.upper() == "2XX", c)):
            if not (code.startswith("2") and (code.isdigit() or code.upper() == "2XX")):
                continue
            raw = by_code[code]
            response = self._document.mapping(raw, join(at, code), required=True)
            content = response.get("content") or {}
            media = pick_media(content, json_only=True) if isinstance(content, dict) else None
            if media is not None and (content[media] or {}).get("schema") is not None:
                schema_at = join(at, code, "content", media, "schema")
                return self._schemas.convert(
                    content[media]["schema"], schema_at, budget=OUTPUT_BUDGET
                )
        return None


def _parameter_value(parameter: dict[str, Any], schema: dict[str, Any], locator: str) -> Any:
    """The formula for a query/header value; arrays not exploded are joined (`a,b`)."""
    value = {"$var": locator}
    style = parameter.get("style", "form" if parameter["in"] == "query" else "simple")
    exploded = parameter.get("explode", style == "form")
    delimiter = _DELIMITERS.get(style)
    if schema.get("type") != "array" or exploded or delimiter is None:
        return value
    # `$concat` of nothing is "", and `$firstNotEmpty` turns that into "left out".
    return {"$firstNotEmpty": [{"$concat": {"values": [value], "delimiter": delimiter}}]}


def _server_prefix(item: dict[str, Any], operation: dict[str, Any]) -> str:
    """An absolute server declared on the operation or its path item, else `''`."""
    servers = operation.get("servers") or item.get("servers")
    first = servers[0] if isinstance(servers, list) and servers else None
    url = first.get("url") if isinstance(first, dict) else None
    if isinstance(url, str) and url.startswith(("http://", "https://")) and "{" not in url:
        return url.rstrip("/")
    return ""


def _name(operation: dict[str, Any], method: str, path: str) -> str:
    for candidate in (operation.get("summary"), operation.get("operationId")):
        if isinstance(candidate, str) and candidate.strip():
            return candidate.strip().splitlines()[0]
    return f"{method.upper()} {path}"
