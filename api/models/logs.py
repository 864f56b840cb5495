from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from api.models import PublicModel
from core.models import ApiCallState


class ExternalApiLogPublic(PublicModel):
    id: str
    created_at: datetime
    customer_id: str | None
    connection_id: str | None
    integration_key: str | None
    method: str
    url: str
    status: int | None
    success: bool
    duration_ms: float
    request_size: int
    response_size: int
    request_headers: dict[str, Any]
    request_body: str | None
    response_body: str | None
    error_key: str | None
    error_message: str | None
    state: ApiCallState = Field(
        description="`pending`: sent, no answer yet (or the process died before it, so the "
        "request may have reached the app); `completed`: the app answered; `failed`: no answer."
    )


class ConnectionAttemptPublic(PublicModel):
    id: str
    created_at: datetime
    customer_id: str | None
    integration_key: str | None
    connection_id: str | None
    auth_option_key: str | None
    success: bool
    error_key: str | None
    error_message: str | None
