"""The import itself: an OpenAPI description in, a validated `ConnectorSpec` out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from connectors.openapi.document import Document, OpenApiProblem, join
from connectors.openapi.operations import METHODS, OperationBuilder, Skipped
from connectors.openapi.output import connector_yaml
from connectors.openapi.schemas import SchemaConverter
from connectors.openapi.security import auth_options, server
from connectors.openapi.swagger2 import upgrade_swagger2
from connectors.spec import ConnectorSpec
from core.errors import validation_error

# Paths that answer "who am I" without parameters make the best credential tests.
_TEST_PATHS = ("/me", "/users/me", "/myself", "/auth.test", "/whoami", "/user", "/organisation")


@dataclass(frozen=True)
class SkippedOperation:
    method: str
    path: str
    reason: str


@dataclass
class ImportResult:
    """The connector, and what of the description it could not carry."""

    connector: ConnectorSpec
    skipped: list[SkippedOperation] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def import_openapi(document: dict[str, Any], key: str, *, name: str | None = None) -> ConnectorSpec:
    """A connector for the API an OpenAPI 3.x (or Swagger 2.0) description describes.

    Raises:
        OsmoError: `validation_error` (422) listing each problem with its path in the document
            (`paths./x.get.responses`), or `key`/`name` when those are not usable.
    """
    return build_connector(document, key, name=name).connector


def build_connector(
    document: Any, key: str, *, name: str | None = None, root: str = ""
) -> ImportResult:
    """Like `import_openapi`, with the operations that were skipped and why.

    Args:
        root: Prefix of the paths of problems in the document (the API says `document`).
    """
    try:
        return _build(document, key, name)
    except _Problems as found:
        problems = found.problems
    except OpenApiProblem as problem:
        problems = [problem]
    raise validation_error([{"path": join(root, p.path), "message": p.message} for p in problems])


def import_openapi_yaml(document: dict[str, Any], key: str, *, name: str | None = None) -> str:
    """`import_openapi`, as `connector.yaml` text."""
    return connector_yaml(import_openapi(document, key, name=name))


class _Problems(Exception):
    def __init__(self, problems: list[OpenApiProblem]) -> None:
        super().__init__(f"{len(problems)} problems")
        self.problems = problems


def _build(raw: Any, key: str, name: str | None) -> ImportResult:
    if not isinstance(raw, dict):
        raise OpenApiProblem("", "an OpenAPI description must be a mapping")
    version_30 = _check_version(raw)
    document = Document(upgrade_swagger2(raw) if "swagger" in raw else raw)
    api = server(document)
    auth = auth_options(document, api)
    builder = OperationBuilder(
        document, SchemaConverter(document), auth.parameters, version_30=version_30
    )
    operations: list[dict[str, Any]] = []
    skipped: list[SkippedOperation] = []
    problems: list[OpenApiProblem] = []
    paths = document.mapping(document.data.get("paths"), "paths")
    for path, item in paths.items():
        item = document.mapping(item, join("paths", path), required=True)
        for method in METHODS:
            if method not in item:
                continue
            try:
                operations.append(builder.build(str(path), method, item))
            except Skipped as reason:
                skipped.append(SkippedOperation(method.upper(), str(path), str(reason)))
            except OpenApiProblem as problem:
                problems.append(problem)
    if problems:
        raise _Problems(problems)
    test = _test_request(operations)
    for option in auth.options:
        if test is not None:
            option["test"] = test
    info = document.data.get("info") or {}
    spec = {
        "key": key,
        "name": name or info.get("title") or key,
        "version": str(info.get("version") or "1.0.0"),
        "docsUrl": (document.data.get("externalDocs") or {}).get("url"),
        "auth": auth.options,
        "api": {"baseUrl": api.base_url},
        "operations": operations,
    }
    connector = _validate({k: v for k, v in spec.items() if v is not None})
    return ImportResult(connector, skipped, [*auth.notes, *builder.notes])


def _check_version(raw: dict[str, Any]) -> bool:
    """True for OpenAPI 3.0 (and Swagger 2.0, upgraded to 3.0), False for 3.1."""
    if str(raw.get("swagger", "")) == "2.0":
        return True
    version = str(raw.get("openapi", ""))
    if not version.startswith("3."):
        where = "openapi" if "openapi" in raw else ""
        raise OpenApiProblem(where, "not an OpenAPI 3.x (or Swagger 2.0) description")
    return version.startswith("3.0")


def _test_request(operations: list[dict[str, Any]]) -> dict[str, Any] | None:
    """A GET without required inputs, preferring "who am I" paths, then the shortest."""
    candidates = [
        op["request"]["path"]
        for op in operations
        if op["request"]["method"] == "GET"
        and not op["inputSchema"].get("required")
        and "{{" not in op["request"]["path"]
    ]
    if not candidates:
        return None

    def rank(path: str) -> tuple[int, int, str]:
        lowered = path.lower().rstrip("/")
        preference = next(
            (i for i, end in enumerate(_TEST_PATHS) if lowered.endswith(end)), len(_TEST_PATHS)
        )
        return preference, len(path), path

    return {"path": min(candidates, key=rank)}


def _validate(spec: dict[str, Any]) -> ConnectorSpec:
    try:
        return ConnectorSpec.model_validate(spec)
    except ValidationError as exc:
        problems = [
            {"path": join("", *error["loc"]), "message": error["msg"]} for error in exc.errors()
        ]
        raise validation_error(problems) from None
