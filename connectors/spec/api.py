"""The API client: base URL, pagination, error mapping, rate-limit signals, request budget."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from connectors.spec.base import SpecModel

ErrorKey = Literal[
    "access_token_expired",
    "connection_is_defunct",
    "rate_limit_exceeded",
    "bad_request",
    "not_found",
    "conflict",
    "server_error",
]


class PageSize(SpecModel):
    page_size_param: str | None = Field(None, description="Query/body parameter for page size.")
    page_size: int | None = Field(None, ge=1, description="Page size to ask for.")
    results_path: str | None = Field(
        None, description="Locator of the array of items in each page, e.g. `data.results`."
    )


class CursorPagination(PageSize):
    """Next cursor taken from the response body (HubSpot `paging.next.after`, Slack...)."""

    type: Literal["cursor"]
    cursor_path: str = Field(description="Locator of the next cursor in the response body.")
    cursor_param: str = Field(description="Parameter that carries the cursor.")
    cursor_in: Literal["query", "body"] = "query"
    has_more_path: str | None = Field(None, description="Locator of a 'more pages' boolean.")


class OffsetPagination(PageSize):
    type: Literal["offset"]
    offset_param: str = "offset"
    limit_param: str = "limit"
    start: int = 0
    total_path: str | None = None
    has_more_path: str | None = None


class PageNumberPagination(PageSize):
    type: Literal["page-number"]
    page_param: str = "page"
    start_page: int = 1
    total_pages_path: str | None = None
    has_more_path: str | None = None


class LinkHeaderPagination(PageSize):
    """RFC 8288 `Link: <url>; rel="next"` (GitHub, GitLab, Zendesk...)."""

    type: Literal["link-header"]
    rel: str = "next"


class NextUrlPagination(PageSize):
    """Absolute next-page URL in the body (Zendesk `next_page`, Intercom `pages.next`)."""

    type: Literal["next-url"]
    next_url_path: str


class NoPagination(SpecModel):
    type: Literal["none"]


Pagination = Annotated[
    CursorPagination
    | OffsetPagination
    | PageNumberPagination
    | LinkHeaderPagination
    | NextUrlPagination
    | NoPagination,
    Field(discriminator="type"),
]


class ResponseMatch(SpecModel):
    status: list[int] | None = Field(None, description="Any of these HTTP statuses.")
    body_path: str | None = Field(None, description="Locator into the JSON body.")
    equals: Any = Field(None, description="Value at `bodyPath` must equal this.")
    exists: bool | None = Field(None, description="Value at `bodyPath` must (not) exist.")


class ResponseHandler(SpecModel):
    """Maps a response (even a 200, e.g. GraphQL `errors`) to an Osmo error key."""

    when: ResponseMatch
    error: ErrorKey
    message_path: str | None = Field(None, description="Locator of the provider's message.")


class RateLimitSpec(SpecModel):
    """How the app says 'slow down'."""

    statuses: list[int] = Field(default_factory=lambda: [429])
    retry_after_header: str = "Retry-After"
    reset_header: str | None = Field(None, description="e.g. `X-RateLimit-Reset`.")
    reset_format: Literal["epoch-seconds", "delta-seconds", "epoch-ms"] = "epoch-seconds"
    remaining_header: str | None = Field(None, description="e.g. `X-RateLimit-Remaining`.")
    exhausted_statuses: list[int] = Field(
        default_factory=list,
        description="Statuses that mean rate limited when `remainingHeader` is 0 (GitHub 403).",
    )
    default_retry_after: float = 30.0


class RequestBudget(SpecModel):
    """A proactive limit per connection, shared by every worker process."""

    requests: int = Field(ge=1)
    per_seconds: float = Field(gt=0)


class ApiClientSpec(SpecModel):
    """How to talk to the app's API."""

    base_url: str = Field(description="Templated, e.g. `https://{{ inputs.subdomain }}.x.com`.")
    headers: dict[str, str] = Field(default_factory=dict)
    query: dict[str, str] = Field(default_factory=dict)
    pagination: Pagination | None = Field(None, description="Default for list requests.")
    response_handlers: list[ResponseHandler] = Field(default_factory=list)
    rate_limit: RateLimitSpec = Field(default_factory=RateLimitSpec)
    budget: RequestBudget | None = None
    idempotency_header: str | None = Field(
        None, description="Header for idempotency keys on writes (Stripe `Idempotency-Key`)."
    )
