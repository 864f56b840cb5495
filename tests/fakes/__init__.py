"""Fake external SaaS apps for Osmo's tests (the test machine has no internet).

Each fake keeps its state in memory, exposes it as public attributes for assertions and
knobs (``expire_access_tokens()``, ``arm_rate_limit()``, ...), and serves a FastAPI ``.app``
shaped after a real vendor's documented API:

* :class:`FakeCRM` (from :mod:`demo.fake_crm`, the app `osmo dev` serves) - OAuth 2.0 (code +
  S256 PKCE, refresh, client credentials, revocation)
  and a HubSpot-shaped contacts API.
* :class:`FakeHelpdesk` - Zendesk-shaped API with ``email/token`` Basic auth or ``X-Api-Key``.
* :class:`FakeOAuth1App` - OAuth 1.0a (HMAC-SHA1) provider, Trello/Xero-1 shaped.

In-process::

    crm = FakeCRM()
    crm.register_client("cid", "secret", ["http://osmo.test/callback"])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=crm.app),
                                 base_url="http://crm.test") as client:
        ...

On a real loopback port (end-to-end / headless browser)::

    with serve(crm.app) as base_url:      # "http://127.0.0.1:<port>"
        ...

:func:`login_and_consent` fills in a fake's login/consent form and returns the 302 to
the callback, so OAuth flows can be completed without a browser.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from demo.fake_crm import FakeCRM
    from tests.fakes.browser import login_and_consent, login_and_consent_sync, parse_login_form
    from tests.fakes.helpdesk import FakeHelpdesk
    from tests.fakes.oauth1_app import FakeOAuth1App
    from tests.fakes.server import serve, serve_async

# Imported lazily so ``python -m tests.fakes.helpdesk`` does not import the module twice. Names
# map to a module of this package, or (with a dot) to a full module path: the fake CRM ships
# in `demo.fake_crm` because `osmo dev` serves it.
_EXPORTS = {
    "FakeCRM": "demo.fake_crm",
    "FakeHelpdesk": "helpdesk",
    "FakeOAuth1App": "oauth1_app",
    "login_and_consent": "browser",
    "login_and_consent_sync": "browser",
    "parse_login_form": "browser",
    "serve": "server",
    "serve_async": "server",
}


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = _EXPORTS[name] if "." in _EXPORTS[name] else f"{__name__}.{_EXPORTS[name]}"
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "FakeCRM",
    "FakeHelpdesk",
    "FakeOAuth1App",
    "login_and_consent",
    "login_and_consent_sync",
    "parse_login_form",
    "serve",
    "serve_async",
]
