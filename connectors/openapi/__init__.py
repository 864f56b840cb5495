"""The connector builder: a connector generated from an OpenAPI 3.x (or Swagger 2.0) description.

    connector = import_openapi(read_document(Path("asana_oas.yaml")), "my-asana")
    write_connector(connector, Path("connectors"))  # connectors/my-asana/connector.yaml

Every `$ref` is inlined (recursive schemas are cut with `{}`), so the connector stands alone.
See `security` for how security schemes become auth options and `operations` for how
operations, parameters and request bodies become connector operations.
"""

from connectors.openapi.builder import (
    ImportResult,
    SkippedOperation,
    build_connector,
    import_openapi,
    import_openapi_yaml,
)
from connectors.openapi.document import OpenApiProblem, parse_document, read_document
from connectors.openapi.output import connector_yaml, summarize, write_connector

__all__ = [
    "ImportResult",
    "OpenApiProblem",
    "SkippedOperation",
    "build_connector",
    "connector_yaml",
    "import_openapi",
    "import_openapi_yaml",
    "parse_document",
    "read_document",
    "summarize",
    "write_connector",
]
