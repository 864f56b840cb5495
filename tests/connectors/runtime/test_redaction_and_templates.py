from __future__ import annotations

import json

import pytest

from connectors.runtime.redaction import MASK, Redactor
from connectors.runtime.templates import render, render_value
from core.errors import OsmoError


def test_known_secret_values_are_masked_everywhere() -> None:
    redactor = Redactor({"s3cr3t-value"})
    assert redactor.text("token=s3cr3t-value;") == f"token={MASK};"
    assert redactor.url("https://u:p@x.test/a?q=s3cr3t-value&api_key=zzz&page=2") == (
        "https://x.test/a?q=%5BREDACTED%5D&api_key=%5BREDACTED%5D&page=2"
    )
    headers = redactor.headers([("Authorization", "Bearer abc"), ("X-Custom", "s3cr3t-value")])
    assert headers == {"Authorization": MASK, "X-Custom": MASK}


def test_secret_named_fields_are_masked_in_json_and_forms() -> None:
    redactor = Redactor()
    body = json.dumps({"access_token": "a", "nested": {"client_secret": "b"}, "name": "ok"})
    assert json.loads(redactor.body(body.encode(), "application/json", 1000) or "") == {
        "access_token": MASK,
        "nested": {"client_secret": MASK},
        "name": "ok",
    }
    form = redactor.body(
        b"grant_type=refresh_token&refresh_token=abc", "application/x-www-form-urlencoded", 1000
    )
    assert form == "grant_type=refresh_token&refresh_token=%5BREDACTED%5D"
    assert redactor.body(b"\xff\xfe", "application/octet-stream", 10) == "<2 bytes of binary data>"


def test_templates_render_and_report_missing_paths() -> None:
    context = {"inputs": {"subdomain": "acme"}, "credentials": {"list": ["a", "b"]}}
    assert render("https://{{ inputs.subdomain }}.x.test/{{credentials.list.1}}", context) == (
        "https://acme.x.test/b"
    )
    assert render_value({"h": ["{{ inputs.subdomain }}", 3]}, context) == {"h": ["acme", 3]}
    with pytest.raises(OsmoError) as raised:
        render("{{ inputs.region }}", context)
    assert raised.value.key == "template_value_missing" and raised.value.data == {
        "path": "inputs.region"
    }
