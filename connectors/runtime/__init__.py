"""The connector runtime: auth, requests, refresh, logging and error normalization."""

import warnings

import authlib.deprecate  # noqa: F401  (installs authlib's "always" filter; ours must follow)

# authlib announces a future rename of its own httpx module when imported; nothing to act on.
warnings.filterwarnings("ignore", message=".*httpx module is deprecated.*")

# ruff: noqa: E402

from connectors.runtime.client import ConnectorRuntime
from connectors.runtime.context import ApiCall, ApiLogSink, ConnectionContext, CredentialStore
from connectors.runtime.errors import ConnectorError
from connectors.runtime.oauth2 import OAuthGrantError, TokenSet
from connectors.runtime.sinks import DatabaseApiLogSink, MemoryApiLogSink

__all__ = [
    "ApiCall",
    "ApiLogSink",
    "ConnectionContext",
    "ConnectorError",
    "ConnectorRuntime",
    "CredentialStore",
    "DatabaseApiLogSink",
    "MemoryApiLogSink",
    "OAuthGrantError",
    "TokenSet",
]
