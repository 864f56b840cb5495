"""Drive the fakes' login-and-consent pages without a browser ("follow the form post manually").

Both OAuth fakes render the same form (``#username``, ``#password``, ``#approve``/``#deny``
buttons named ``action``, protocol parameters as hidden inputs), so one helper serves both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin

import httpx


@dataclass
class LoginForm:
    """The parsed login form: absolute ``action`` URL, field values, visible ``#error``."""

    action: str
    fields: dict[str, str] = field(default_factory=dict)
    error: str | None = None


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self.error: str | None = None
        self._in_error = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {k: v or "" for k, v in attrs}
        if tag == "form" and self.action is None:
            self.action = attr.get("action", "")
        elif tag == "input" and attr.get("name"):
            self.fields[attr["name"]] = attr.get("value", "")
        elif attr.get("id") == "error":
            self._in_error = True
            self.error = ""

    def handle_endtag(self, tag: str) -> None:
        self._in_error = False

    def handle_data(self, data: str) -> None:
        if self._in_error:
            self.error = (self.error or "") + data


def parse_login_form(response: httpx.Response) -> LoginForm:
    """Parse the login form out of an authorize-page response.

    Args:
        response: The ``GET .../authorize`` response (must be 200 HTML with a form).

    Returns:
        The form; ``action`` is resolved against the page URL.

    Raises:
        AssertionError: If the page has no form (e.g. it is the HTML error page).
    """
    parser = _FormParser()
    parser.feed(response.text)
    assert parser.action is not None, f"no login form on page ({response.status_code})"
    return LoginForm(urljoin(str(response.url), parser.action), parser.fields, parser.error)


def _submission(form: LoginForm, username: str, password: str, action: str) -> dict[str, str]:
    return {**form.fields, "username": username, "password": password, "action": action}


async def login_and_consent(
    client: httpx.AsyncClient,
    authorize_url: str,
    username: str,
    password: str,
    action: str = "approve",
) -> httpx.Response:
    """Open ``authorize_url``, fill in the login form and press ``#approve`` (or ``#deny``).

    Args:
        client: Client able to reach the fake (ASGI transport or served URL).
        authorize_url: Full authorize URL as built by the code under test.
        username: Username to type.
        password: Password to type.
        action: ``"approve"`` or ``"deny"``.

    Returns:
        The form-post response without following redirects: normally a 302 whose
        ``Location`` is the callback URL; 200 with ``#error`` for bad credentials.
        If the authorize page itself is not a form (400 error page), that response.
    """
    page = await client.get(authorize_url, follow_redirects=False)
    if page.status_code != 200:
        return page
    form = parse_login_form(page)
    data = _submission(form, username, password, action)
    return await client.post(form.action, data=data, follow_redirects=False)


def login_and_consent_sync(
    client: httpx.Client,
    authorize_url: str,
    username: str,
    password: str,
    action: str = "approve",
) -> httpx.Response:
    """Synchronous twin of :func:`login_and_consent`.

    Args:
        client: Client able to reach the fake.
        authorize_url: Full authorize URL.
        username: Username to type.
        password: Password to type.
        action: ``"approve"`` or ``"deny"``.

    Returns:
        The form-post response (see :func:`login_and_consent`).
    """
    page = client.get(authorize_url, follow_redirects=False)
    if page.status_code != 200:
        return page
    form = parse_login_form(page)
    data = _submission(form, username, password, action)
    return client.post(form.action, data=data, follow_redirects=False)
