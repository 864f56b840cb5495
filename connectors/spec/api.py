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

    type: Literal["cursor"] = Field(description="Pagination by a cursor in the response body.")
    cursor_path: str = Field(description="Locator of the next cursor in the response body.")
    cursor_param: str = Field(description="Parameter that carries the cursor.")
    cursor_in: Literal["query", "body"] = Field(
        "query", description="Whether the cursor goes in the query string or the JSON body."
    )
    has_more_path: str | None = Field(None, description="Locator of a 'more pages' boolean.")


class OffsetPagination(PageSize):
    """Pages by an item offset (`offset=100&limit=100`)."""

    type: Literal["offset"] = Field(description="Pagination by an item offset.")
    offset_param: str = Field("offset", description="Parameter that carries the offset.")
    limit_param: str = Field("limit", description="Parameter that carries the page size.")
    start: int = Field(0, description="Offset of the first item.")
    total_path: str | None = Field(
        None, description="Locator of the total number of items (stops when reached)."
    )
    has_more_path: str | None = Field(None, description="Locator of a 'more pages' boolean.")


class PageNumberPagination(PageSize):
    """Pages by number (`page=2`)."""

    type: Literal["page-number"] = Field(description="Pagination by page number.")
    page_param: str = Field("page", description="Parameter that carries the page number.")
    start_page: int = Field(1, description="Number of the first page (0 or 1).")
    total_pages_path: str | None = Field(
        None, description="Locator of the number of pages (stops after the last)."
    )
    has_more_path: str | None = Field(None, description="Locator of a 'more pages' boolean.")


class LinkHeaderPagination(PageSize):
    """RFC 8288 `Link: <url>; rel="next"` (GitHub, GitLab, Zendesk...)."""

    type: Literal["link-header"] = Field(description="Pagination by the `Link` header.")
    rel: str = Field("next", description="Relation of the next page's link.")


class NextUrlPagination(PageSize):
    """Absolute next-page URL in the body (Zendesk `next_page`, Intercom `pages.next`)."""

    type: Literal["next-url"] = Field(description="Pagination by a next-page URL in the body.")
    next_url_path: str = Field(description="Locator of the next page's URL in the body.")


class NoPagination(SpecModel):
    """One request answers everything (or turns `api.pagination` off for one request)."""

    type: Literal["none"] = Field(description="No pagination.")


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
    """Which responses a handler applies to (every condition given must hold)."""

    status: list[int] | None = Field(None, description="Any of these HTTP statuses.")
    body_path: str | None = Field(None, description="Locator into the JSON body.")
    equals: Any = Field(None, description="Value at `bodyPath` must equal this.")
    exists: bool | None = Field(None, description="Value at `bodyPath` must (not) exist.")


class ResponseHandler(SpecModel):
    """Maps a response (even a 200, e.g. GraphQL `errors`) to an Osmo error key."""

    when: ResponseMatch = Field(description="Which responses this handler applies to.")
    error: ErrorKey = Field(description="Osmo error key the response becomes.")
    message_path: str | None = Field(None, description="Locator of the provider's message.")


class RateLimitSpec(SpecModel):
    """How the app says 'slow down'."""

    statuses: list[int] = Field(
        default_factory=lambda: [429], description="HTTP statuses that mean 'rate limited'."
    )
    retry_after_header: str = Field(
        "Retry-After", description="Header with the seconds to wait (or an HTTP date)."
    )
    reset_header: str | None = Field(
        None, description="Header with the time the limit resets, e.g. `X-RateLimit-Reset`."
    )
    reset_format: Literal["epoch-seconds", "delta-seconds", "epoch-ms"] = Field(
        "epoch-seconds", description="How `resetHeader` expresses the reset time."
    )
    remaining_header: str | None = Field(None, description="e.g. `X-RateLimit-Remaining`.")
    exhausted_statuses: list[int] = Field(
        default_factory=list,
        description="Statuses that mean rate limited when `remainingHeader` is 0 (GitHub 403).",
    )
    default_retry_after: float = Field(
        30.0, description="Seconds to wait when the response says nothing about when to retry."
    )


class RequestBudget(SpecModel):
    """A proactive limit per connection, shared by every worker process."""

    requests: int = Field(ge=1, description="Requests allowed per window.")
    per_seconds: float = Field(gt=0, description="Length of the window, in seconds.")


class ApiClientSpec(SpecModel):
    """How to talk to the app's API."""

    base_url: str = Field(description="Templated, e.g. `https://{{ inputs.subdomain }}.x.com`.")
    headers: dict[str, str] = Field(
        default_factory=dict, description="Headers sent with every request (templates)."
    )
    query: dict[str, str] = Field(
        default_factory=dict, description="Query parameters sent with every request (templates)."
    )
    pagination: Pagination | None = Field(None, description="Default for list requests.")
    response_handlers: list[ResponseHandler] = Field(
        default_factory=list,
        description="Responses that are errors, checked in order before the status code.",
    )
    rate_limit: RateLimitSpec = Field(
        default_factory=RateLimitSpec, description="Statuses and headers that mean 'slow down'."
    )
    budget: RequestBudget | None = Field(
        None, description="A proactive request limit per connection."
    )
    idempotency_header: str | None = Field(
        None, description="Header for idempotency keys on writes (Stripe `Idempotency-Key`)."
    )
