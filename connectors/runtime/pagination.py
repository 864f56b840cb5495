"""Pages of a list request, for every pagination style the spec declares.

A page's `next` is a small JSON-able state (cursor, offset, page number or URL); callers hand
it back as an opaque cursor, so a listing can resume in another request or another process.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx

from connectors.runtime.bodies import response_body
from connectors.runtime.mapping import RenderedRequest, locate
from connectors.spec import (
    CursorPagination,
    LinkHeaderPagination,
    NextUrlPagination,
    NoPagination,
    OffsetPagination,
    PageNumberPagination,
    Pagination,
)

_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?([^";]+)"?')


@dataclass
class Page:
    items: list[Any]
    body: Any
    next: Any = None


def prepare(request: RenderedRequest, pagination: Pagination | None, state: Any) -> RenderedRequest:
    """Adds page size and the position `state` (None for the first page) to the request."""
    if pagination is None or isinstance(pagination, NoPagination):
        return request
    if pagination.page_size_param and pagination.page_size:
        _put(request, pagination, pagination.page_size_param, pagination.page_size)
    if isinstance(pagination, CursorPagination) and state is not None:
        _put(request, pagination, pagination.cursor_param, state)
    elif isinstance(pagination, OffsetPagination):
        request.params[pagination.offset_param] = str(pagination.start if state is None else state)
        if pagination.page_size and not pagination.page_size_param:
            request.params[pagination.limit_param] = str(pagination.page_size)
    elif isinstance(pagination, PageNumberPagination):
        request.params[pagination.page_param] = str(
            pagination.start_page if state is None else state
        )
    elif isinstance(pagination, LinkHeaderPagination | NextUrlPagination) and state is not None:
        # The next URL carries every parameter already.
        request.path, request.params = str(state), {}
    return request


def _put(request: RenderedRequest, pagination: Pagination, name: str, value: Any) -> None:
    if isinstance(pagination, CursorPagination) and pagination.cursor_in == "body":
        body = dict(request.json or {})
        target = body
        *parents, leaf = name.split(".")
        for part in parents:
            target = target.setdefault(part, {})
        target[leaf] = value
        request.json = body
    else:
        request.params[name] = str(value)


def read_page(
    response: httpx.Response,
    pagination: Pagination | None,
    state: Any,
    records_path: str | None,
) -> Page:
    """Items of this page and the state of the next one (None when this is the last)."""
    body = response_body(response)
    results_path = getattr(pagination, "results_path", None) or records_path
    found = locate(body, results_path) if results_path else body
    items = found if isinstance(found, list) else []
    return Page(items, body, _next(response, body, items, pagination, state))


def _next(
    response: httpx.Response,
    body: Any,
    items: list[Any],
    pagination: Pagination | None,
    state: Any,
) -> Any:
    if pagination is None or isinstance(pagination, NoPagination) or not items:
        return None
    has_more_path = getattr(pagination, "has_more_path", None)
    has_more = locate(body, has_more_path) if has_more_path else None
    if has_more is False:
        return None
    full_page = pagination.page_size is None or len(items) >= pagination.page_size
    if isinstance(pagination, CursorPagination):
        cursor = locate(body, pagination.cursor_path)
        return cursor if cursor not in (None, "") and cursor != state else None
    if isinstance(pagination, OffsetPagination):
        offset = (pagination.start if state is None else int(state)) + len(items)
        total = locate(body, pagination.total_path) if pagination.total_path else None
        if total is not None:
            return offset if offset < int(total) else None
        return offset if has_more or full_page else None
    if isinstance(pagination, PageNumberPagination):
        page = pagination.start_page if state is None else int(state)
        pages = locate(body, pagination.total_pages_path) if pagination.total_pages_path else None
        if pages is not None:
            return page + 1 if page < int(pages) else None
        return page + 1 if has_more or full_page else None
    if isinstance(pagination, LinkHeaderPagination):
        for url, rel in _LINK.findall(response.headers.get("link", "")):
            if rel.strip() == pagination.rel:
                return url
        return None
    assert isinstance(pagination, NextUrlPagination)
    return locate(body, pagination.next_url_path) or None
