"""Swagger 2.0 → the OpenAPI 3.0 shape the importer reads (Slack still publishes 2.0).

Only what the importer uses is carried over: servers, security schemes, schemas, responses,
and operations, whose `body`/`formData` parameters become a `requestBody`.
"""

from __future__ import annotations

from typing import Any

from connectors.openapi.document import OpenApiProblem, join

_REF_PREFIXES = {
    "#/definitions/": "#/components/schemas/",
    "#/responses/": "#/components/responses/",
    "#/parameters/": "#/components/parameters/",
}
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")
_PARAMETER_SCHEMA = (
    "type",
    "format",
    "items",
    "enum",
    "default",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "pattern",
    "minItems",
    "maxItems",
    "uniqueItems",
    "multipleOf",
)
_FLOWS = {
    "accessCode": "authorizationCode",
    "application": "clientCredentials",
    "implicit": "implicit",
    "password": "password",
}
_FORM = "application/x-www-form-urlencoded"
_COLLECTION_FORMATS = {
    "csv": {"style": "form", "explode": False},
    "ssv": {"style": "spaceDelimited", "explode": False},
    "pipes": {"style": "pipeDelimited", "explode": False},
    "multi": {"style": "form", "explode": True},
}
_MULTIPART = "multipart/form-data"


def upgrade_swagger2(data: dict[str, Any]) -> dict[str, Any]:
    """The same API as an OpenAPI 3.0 description.

    Raises:
        OpenApiProblem: `paths` or an operation that is not a mapping.
    """
    doc = _rewrite_refs(data)
    consumes = doc.get("consumes") or ["application/json"]
    produces = doc.get("produces") or ["application/json"]
    components: dict[str, Any] = {
        "schemas": doc.get("definitions") or {},
        "parameters": doc.get("parameters") or {},
        "responses": {
            name: _response(response, produces)
            for name, response in (doc.get("responses") or {}).items()
        },
        "securitySchemes": {
            name: _security_scheme(scheme)
            for name, scheme in (doc.get("securityDefinitions") or {}).items()
        },
    }
    upgraded: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": doc.get("info") or {},
        "servers": [{"url": _server_url(doc)}],
        "components": components,
        "paths": {},
    }
    for key in ("security", "externalDocs", "tags"):
        if key in doc:
            upgraded[key] = doc[key]
    paths = doc.get("paths") or {}
    if not isinstance(paths, dict):
        raise OpenApiProblem("paths", "must be a mapping of paths")
    for path, item in paths.items():
        upgraded["paths"][path] = _path_item(doc, item, join("paths", path), consumes, produces)
    return upgraded


def _rewrite_refs(node: Any) -> Any:
    if isinstance(node, dict):
        out = {key: _rewrite_refs(value) for key, value in node.items()}
        ref = out.get("$ref")
        if isinstance(ref, str):
            for old, new in _REF_PREFIXES.items():
                if ref.startswith(old):
                    out["$ref"] = new + ref[len(old) :]
        return out
    if isinstance(node, list):
        return [_rewrite_refs(item) for item in node]
    return node


def _server_url(doc: dict[str, Any]) -> str:
    base_path = doc.get("basePath") or ""
    if not doc.get("host"):
        return base_path or "/"
    scheme = (doc.get("schemes") or ["https"])[0]
    return f"{scheme}://{doc['host']}{base_path}"


def _security_scheme(scheme: dict[str, Any]) -> dict[str, Any]:
    kind = scheme.get("type")
    if kind == "basic":
        return {"type": "http", "scheme": "basic", "description": scheme.get("description")}
    if kind == "oauth2":
        flow = {
            key: scheme[key] for key in ("authorizationUrl", "tokenUrl", "scopes") if key in scheme
        }
        return {"type": "oauth2", "flows": {_FLOWS.get(scheme.get("flow", ""), "unknown"): flow}}
    return dict(scheme)


def _response(response: Any, produces: list[str]) -> Any:
    if not isinstance(response, dict) or "$ref" in response or "schema" not in response:
        return response
    content = {media: {"schema": response["schema"]} for media in produces}
    return {"description": response.get("description", ""), "content": content}


def _path_item(
    doc: dict[str, Any], item: Any, path: str, consumes: list[str], produces: list[str]
) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise OpenApiProblem(path, "a path item must be a mapping")
    shared = item.get("parameters") or []
    upgraded: dict[str, Any] = {}
    for method in _METHODS:
        operation = item.get(method)
        if operation is None:
            continue
        if not isinstance(operation, dict):
            raise OpenApiProblem(join(path, method), "an operation must be a mapping")
        upgraded[method] = _operation(
            doc, operation, shared, join(path, method), consumes, produces
        )
    return upgraded


def _operation(
    doc: dict[str, Any],
    operation: dict[str, Any],
    shared: list[Any],
    path: str,
    consumes: list[str],
    produces: list[str],
) -> dict[str, Any]:
    consumes = operation.get("consumes") or consumes
    produces = operation.get("produces") or produces
    by_key: dict[tuple[str, str], dict[str, Any]] = {}
    for index, raw in enumerate([*shared, *(operation.get("parameters") or [])]):
        parameter = _parameter_object(doc, raw, join(path, "parameters", index))
        by_key[(parameter.get("name", ""), parameter.get("in", ""))] = parameter
    upgraded = {
        key: value
        for key, value in operation.items()
        if key not in ("parameters", "responses", "consumes", "produces")
    }
    upgraded["parameters"] = [
        _parameter(p) for p in by_key.values() if p.get("in") not in ("body", "formData")
    ]
    body = _request_body(list(by_key.values()), consumes)
    if body is not None:
        upgraded["requestBody"] = body
    responses = operation.get("responses")
    if isinstance(responses, dict):
        upgraded["responses"] = {
            code: _response(response, produces) for code, response in responses.items()
        }
    elif responses is not None:
        upgraded["responses"] = responses
    return upgraded


def _parameter_object(doc: dict[str, Any], raw: Any, path: str) -> dict[str, Any]:
    if isinstance(raw, dict) and isinstance(raw.get("$ref"), str):
        name = raw["$ref"].rsplit("/", 1)[-1]
        raw = (doc.get("parameters") or {}).get(name)
        if raw is None:
            raise OpenApiProblem(path, f"$ref {name!r} points at nothing")
    if not isinstance(raw, dict):
        raise OpenApiProblem(path, "a parameter must be a mapping")
    if not isinstance(raw.get("name"), str) or not isinstance(raw.get("in"), str):
        raise OpenApiProblem(path, "a parameter needs a `name` and an `in`")
    return raw


def _parameter(parameter: dict[str, Any]) -> dict[str, Any]:
    schema = {key: parameter[key] for key in _PARAMETER_SCHEMA if key in parameter}
    upgraded: dict[str, Any] = {
        key: parameter[key]
        for key in ("name", "in", "description", "required", "deprecated")
        if key in parameter
    }
    if parameter.get("type") == "array":
        style = _COLLECTION_FORMATS.get(parameter.get("collectionFormat", "csv"))
        upgraded.update(style or {})
    return {**upgraded, "schema": schema}


def _request_body(parameters: list[dict[str, Any]], consumes: list[str]) -> dict[str, Any] | None:
    body = next((p for p in parameters if p.get("in") == "body"), None)
    if body is not None:
        content = {media: {"schema": body.get("schema") or {}} for media in consumes}
        return {"required": bool(body.get("required")), "content": content}
    fields = [p for p in parameters if p.get("in") == "formData"]
    if not fields:
        return None
    media = _MULTIPART if any(f.get("type") == "file" for f in fields) else _FORM
    if media == _FORM and _FORM not in consumes and _MULTIPART in consumes:
        media = _MULTIPART
    properties = {
        f["name"]: {**_parameter(f)["schema"], "description": f.get("description")}
        if f.get("description")
        else _parameter(f)["schema"]
        for f in fields
    }
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    required = [f["name"] for f in fields if f.get("required")]
    if required:
        schema["required"] = required
    return {"required": bool(required), "content": {media: {"schema": schema}}}
