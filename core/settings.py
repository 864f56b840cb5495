"""Osmo settings: the one place environment variables are read."""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_WORKSPACE_SECRET = "osmo-dev-workspace-secret-change-me-0123456789"
DEV_ENCRYPTION_KEY = base64.urlsafe_b64encode(
    hashlib.sha256(b"osmo-dev-encryption-key").digest()
).decode()

ROOT = Path(__file__).resolve().parent.parent


class InsecureSettingsError(RuntimeError):
    """Raised when a default (publicly known) secret is used outside dev mode."""


class Settings(BaseSettings):
    """Deployment settings, read from `OSMO_*` environment variables (and `.env`)."""

    model_config = SettingsConfigDict(env_prefix="OSMO_", env_file=".env", extra="ignore")

    env: Literal["dev", "test", "production"] = Field(
        "dev", description="`dev` allows the built-in development secrets; others refuse them."
    )
    workspace_key: str = Field("dev", description="Key of this deployment's workspace.")
    workspace_secret: str = Field(
        DEV_WORKSPACE_SECRET, description="Secret that signs API tokens (HS256/HS512)."
    )
    encryption_keys: str = Field(
        f"dev:{DEV_ENCRYPTION_KEY}",
        description=(
            "Comma-separated `keyId:base64url(32 bytes)` AES-GCM keys. The first encrypts; "
            "all decrypt, so keys can rotate."
        ),
    )
    database_url: str = Field(
        f"sqlite:///{ROOT / '.data' / 'osmo.db'}", description="SQLAlchemy database URL."
    )
    public_url: str = Field(
        "http://127.0.0.1:8000", description="URL where the API is reachable by browsers."
    )
    temporal_ui_origin: str = Field(
        "http://127.0.0.1:8233",
        description=(
            "Origin of the Temporal UI whose codec requests (`/codec/decode`) Osmo answers "
            "with CORS and credentials; no other origin may call the codec routes. "
            "Comma-separated for several; the first is where the UI sign-in page returns."
        ),
    )
    temporal_address: str = Field("127.0.0.1:7233", description="Temporal frontend host:port.")
    temporal_namespace: str = Field("default", description="Temporal namespace.")
    task_queue: str = Field("osmo", description="Task queue of Osmo's worker.")
    connector_paths: str = Field(
        "",
        description="Extra folders (os.pathsep-separated) scanned for `*/connector.yaml`.",
    )
    allowed_redirect_origins: str = Field(
        "*",
        description=(
            "Comma-separated origins the connect page may return to; `*` allows any (dev only)."
        ),
    )
    log_body_limit: int = Field(
        4096, description="Bytes of request/response body kept in external API logs."
    )
    state_ttl_seconds: int = Field(600, description="Lifetime of an OAuth `state`.")
    connect_session_ttl_seconds: int = Field(
        900, ge=1, description="Lifetime of a connect session (`POST /connect-sessions`)."
    )
    refresh_margin_seconds: int = Field(
        300,
        description=(
            "Refresh access tokens this long before they expire (at most half their lifetime)."
        ),
    )
    http_timeout_seconds: float = Field(30.0, description="Timeout of calls to external APIs.")
    allow_private_http: bool = Field(
        False,
        description=(
            "Let `custom-http-request` nodes, and connections whose base URL comes from the "
            "customer's inputs, reach loopback, private, link-local and other non-public "
            "addresses (off: such requests fail with `address_not_allowed`)."
        ),
    )
    blob_store: str = Field(
        str(ROOT / ".data" / "blobs"),
        description=(
            "Where workflow payloads too large for Temporal's history are kept (claim check): "
            "a directory shared by the API and the workers, or `s3://bucket/prefix` for an "
            "S3-compatible store (needs the `s3` extra; see OSMO_S3_ENDPOINT_URL)."
        ),
    )
    s3_endpoint_url: str | None = Field(
        None, description="Endpoint of an S3-compatible blob store (MinIO, R2...); AWS if unset."
    )
    payload_offload_bytes: int = Field(
        128 * 1024,
        ge=1024,
        description=(
            "Payloads larger than this are encrypted into the blob store and only a reference "
            "goes through Temporal (its limit is 2 MB per payload)."
        ),
    )
    flow_history_limit: int = Field(
        10_000,
        ge=50,
        le=40_000,
        description=(
            "A flow run continues as new once its history has this many events (Temporal "
            "refuses histories over 51,200)."
        ),
    )
    app_api_url: str | None = Field(
        None,
        description=(
            "Base URL of the product's own API, called by `api-request-to-your-app` nodes "
            "with a short-lived customer token signed with the workspace secret."
        ),
    )

    max_request_bytes: int = Field(
        10 * 1024 * 1024,
        ge=0,
        description="Largest API request body; larger get 413 `request_too_large` (0: no limit).",
    )
    max_element_bytes: int = Field(
        1024 * 1024,
        ge=0,
        description=(
            "Largest body when writing integrations and elements (flows, actions, field "
            "mappings...), which every later read returns whole (0: no limit)."
        ),
    )
    rate_limit_per_second: float = Field(
        50.0,
        ge=0,
        description=(
            "API requests per second per customer (or admin token), in each API process; "
            "excess gets 429 `rate_limit_exceeded` with `Retry-After` (0: no limit)."
        ),
    )
    rate_limit_burst: int = Field(
        100, ge=1, description="Requests a caller may make at once before the rate applies."
    )

    db_pool_size: int = Field(
        10, ge=1, description="Database connections each process keeps open in its pool."
    )
    db_max_overflow: int = Field(
        30,
        ge=0,
        description=(
            "Connections a process may open beyond the pool under load (closed when returned); "
            "pool + overflow at least the API's 40 worker threads keeps threads from queueing."
        ),
    )
    db_pool_timeout_seconds: float = Field(
        5.0,
        gt=0,
        description=(
            "How long a request waits for a pooled connection before the API answers 503 "
            "`database_busy` with `Retry-After` (instead of stalling)."
        ),
    )
    max_inflight_starts: int = Field(
        256,
        ge=0,
        description=(
            "Start requests (flow runs, action runs, proxy calls) each API process works on "
            "at once; more wait up to `OSMO_START_QUEUE_SECONDS`, then get 503 `api_busy` "
            "with `Retry-After` (0: no limit)."
        ),
    )
    start_queue_seconds: float = Field(
        1.0,
        ge=0,
        description="How long a start request over `OSMO_MAX_INFLIGHT_STARTS` waits for a slot.",
    )

    # Events (docs/events.md).
    webhook_public_url: str | None = Field(
        None,
        description=(
            "Base URL external apps send webhooks to (`…/webhooks/subscriptions/{id}`); ingress "
            "often runs on another host than the API. Default: `OSMO_PUBLIC_URL`."
        ),
    )
    flow_runs_per_connection: int = Field(
        10,
        ge=1,
        le=1000,
        description=(
            "Flow runs of one connection running at the same time (a flow's "
            "`maxParallelRuns` can lower it); more wait in the connection's queue."
        ),
    )
    worker_cached_workflows: int = Field(
        250,
        ge=0,
        description=(
            "Workflow runs a worker keeps in memory between their tasks (Temporal's sticky "
            "cache). A run evicted from it replays its history on its next task; the SDK's "
            "default of 1,000 let a worker grow past 300 MB with a connection's queued runs."
        ),
    )
    connection_queue_limit: int = Field(
        10_000,
        ge=1,
        description="Flow runs of one connection waiting for a slot; more are rejected.",
    )
    event_dedup_window: int = Field(
        10_000,
        ge=100,
        description="Event ids an inbox remembers to drop redelivered events.",
    )
    min_poll_seconds: int = Field(
        60, ge=1, description="Shortest interval between two polls of one subscription."
    )
    webhook_body_limit: int = Field(
        1024 * 1024,
        ge=1024,
        description="Largest webhook body accepted (413 `request_too_large` above).",
    )

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Settings:
        if self.env == "dev":
            return self
        if self.workspace_secret == DEV_WORKSPACE_SECRET:
            raise InsecureSettingsError(
                "OSMO_WORKSPACE_SECRET is the built-in dev secret; set your own outside dev mode"
            )
        if DEV_ENCRYPTION_KEY in self.encryption_keys:
            raise InsecureSettingsError(
                "OSMO_ENCRYPTION_KEYS contains the built-in dev key; set your own outside dev mode"
            )
        if self.allowed_redirect_origins.strip() == "*" and self.env == "production":
            raise InsecureSettingsError(
                "OSMO_ALLOWED_REDIRECT_ORIGINS must list origins in production"
            )
        return self

    @property
    def extra_connector_paths(self) -> list[Path]:
        import os

        return [Path(p) for p in self.connector_paths.split(os.pathsep) if p.strip()]

    @property
    def temporal_ui_origins(self) -> list[str]:
        return [o.strip().rstrip("/") for o in self.temporal_ui_origin.split(",") if o.strip()]

    @property
    def redirect_origins(self) -> list[str]:
        return [o.strip().rstrip("/") for o in self.allowed_redirect_origins.split(",") if o]


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (cached; tests build their own `Settings`)."""
    return Settings()
