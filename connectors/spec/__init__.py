"""The declarative connector spec: closed pydantic models behind `connector.yaml`.

Every model forbids unknown keys and every variant carries a `type` literal, so a typo in a
connector file is an error at load time, not a surprise at run time. Strings in requests are
templates (`{{ inputs.subdomain }}`, `{{ credentials.access_token }}`); query, headers and
bodies of operations are JSON with formulas (`{$var: input.limit}`).
"""

from connectors.spec.api import (
    ApiClientSpec,
    CursorPagination,
    LinkHeaderPagination,
    NextUrlPagination,
    NoPagination,
    OffsetPagination,
    PageNumberPagination,
    Pagination,
    RateLimitSpec,
    RequestBudget,
    ResponseHandler,
)
from connectors.spec.auth import (
    OAUTH_REDIRECT_TYPES,
    ApiKeyOption,
    AuthOption,
    BasicOption,
    CredentialsMapping,
    CustomOption,
    OAuth1Option,
    OAuth2ClientCredentialsOption,
    OAuth2Option,
)
from connectors.spec.base import HttpMethod, RequestSpec, SpecModel
from connectors.spec.collections import (
    COLLECTION_METHODS,
    CollectionMethod,
    DataCollection,
    FullScan,
    PullLatestRecords,
    RecordSpec,
    UdmMapping,
    WebhookEvents,
)
from connectors.spec.connector import ConnectorSpec
from connectors.spec.operations import HttpMapping, Operation
from connectors.spec.webhooks import WebhookRouting, WebhookSignature, WebhookSpec

__all__ = [
    "COLLECTION_METHODS",
    "OAUTH_REDIRECT_TYPES",
    "ApiClientSpec",
    "ApiKeyOption",
    "AuthOption",
    "BasicOption",
    "CollectionMethod",
    "ConnectorSpec",
    "CredentialsMapping",
    "CursorPagination",
    "CustomOption",
    "DataCollection",
    "FullScan",
    "HttpMapping",
    "HttpMethod",
    "LinkHeaderPagination",
    "NextUrlPagination",
    "NoPagination",
    "OAuth1Option",
    "OAuth2ClientCredentialsOption",
    "OAuth2Option",
    "OffsetPagination",
    "Operation",
    "PageNumberPagination",
    "Pagination",
    "PullLatestRecords",
    "RateLimitSpec",
    "RecordSpec",
    "RequestBudget",
    "RequestSpec",
    "ResponseHandler",
    "SpecModel",
    "UdmMapping",
    "WebhookEvents",
    "WebhookRouting",
    "WebhookSignature",
    "WebhookSpec",
]
