"""The bridge's gatekeeping: who may talk to it, what it may fetch, what a name may hold."""

from __future__ import annotations

import json

import pytest

from meshy_blender.bridge.policy import (
    DEFAULT_NAME,
    MAX_NAME_CHARS,
    MESHY_WEB_ORIGINS,
    PolicyError,
    check_download_url,
    check_host,
    check_origin,
    is_json_content_type,
    parse_import,
    sanitize_name,
)

PORT = 5324
SIGNED = "https://assets.meshy.ai/0191/tasks/abc/output/model.glb?Expires=1700000000&Signature=xyz"


# -- Host (DNS rebinding) -------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1:5324", "localhost:5324", "LOCALHOST:5324"])
def test_the_bridge_own_addresses_pass(host: str) -> None:
    check_host(host, PORT)


@pytest.mark.parametrize(
    "host",
    [
        "evil.com",  # DNS rebinding: the page's own name pointed at 127.0.0.1
        "evil.com:5324",
        "127.0.0.1:8080",  # another port
        "localhost",  # no port while the bridge is not on 80
        "127.0.0.1.evil.com:5324",
        "0.0.0.0:5324",
        "[::1]:5324",
        "",
        None,
    ],
)
def test_any_other_host_is_refused(host: str | None) -> None:
    with pytest.raises(PolicyError) as caught:
        check_host(host, PORT)
    assert caught.value.status == 403


def test_on_port_80_the_host_may_omit_the_port() -> None:
    check_host("localhost", 80)
    check_host("127.0.0.1:80", 80)


# -- Origin ---------------------------------------------------------------------------


@pytest.mark.parametrize("origin", MESHY_WEB_ORIGINS)
@pytest.mark.parametrize(("method", "path"), [("GET", "/status"), ("GET", "/ping"), ("POST", "/import")])
def test_meshy_web_app_may_do_everything(origin: str, method: str, path: str) -> None:
    check_origin(origin, method, path, MESHY_WEB_ORIGINS)


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.com",
        "http://www.meshy.ai",  # not HTTPS
        "https://www.meshy.ai.evil.com",
        "https://evilmeshy.ai",
        "https://www.meshy.ai:8443",
        "null",  # sandboxed iframes and file:// pages
        "HTTPS://WWW.MESHY.AI",  # browsers serialise origins in lower case
    ],
)
@pytest.mark.parametrize(("method", "path"), [("GET", "/status"), ("POST", "/import"), ("OPTIONS", "/import")])
def test_other_pages_are_refused_everywhere(origin: str, method: str, path: str) -> None:
    with pytest.raises(PolicyError) as caught:
        check_origin(origin, method, path, MESHY_WEB_ORIGINS)
    assert caught.value.status == 403


def test_without_origin_a_local_tool_may_only_check_liveness() -> None:
    check_origin(None, "GET", "/status", MESHY_WEB_ORIGINS)
    check_origin(None, "GET", "/ping", MESHY_WEB_ORIGINS)
    for method, path in [("POST", "/import"), ("OPTIONS", "/import"), ("GET", "/import"), ("POST", "/status")]:
        with pytest.raises(PolicyError):
            check_origin(None, method, path, MESHY_WEB_ORIGINS)


def test_extra_origins_only_when_given() -> None:
    local = "http://127.0.0.1:9999"
    with pytest.raises(PolicyError):
        check_origin(local, "POST", "/import", MESHY_WEB_ORIGINS)
    check_origin(local, "POST", "/import", (*MESHY_WEB_ORIGINS, local))


# -- Content-Type ---------------------------------------------------------------------


@pytest.mark.parametrize("value", ["application/json", "application/json; charset=utf-8", "Application/JSON"])
def test_json_content_types(value: str) -> None:
    assert is_json_content_type(value)


@pytest.mark.parametrize(
    "value", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", "application/jsonp", "", None]
)
def test_what_a_plain_form_can_send_is_not_json(value: str | None) -> None:
    assert not is_json_content_type(value)


# -- download URLs ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        SIGNED,
        "https://assets.meshy.ai/model.zip",
        "https://cdn.assets.meshy.ai/model.glb",
        "https://assets.meshy.ai:443/model.glb",
        "HTTPS://ASSETS.MESHY.AI/Model.glb",  # scheme and host are case-insensitive
        "https://xn--ssets-8qa.meshy.ai/model.glb",  # an IDN label under meshy.ai is still Meshy's
    ],
)
def test_meshy_asset_links_are_fetched(url: str) -> None:
    assert check_download_url(url) == url


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://assets.meshy.ai/model.glb", "https"),
        ("ftp://assets.meshy.ai/model.glb", "https"),
        ("file:///etc/passwd", "https"),
        ("https://evil.com/model.glb", "Meshy asset host"),
        ("https://meshy.ai/model.glb", "Meshy asset host"),  # the bare domain is the website, not assets
        ("https://evilmeshy.ai/model.glb", "Meshy asset host"),
        ("https://assets.meshy.ai.evil.com/model.glb", "Meshy asset host"),
        ("https://assets.meshy.ai./model.glb", "Meshy asset host"),
        ("https://assets.meshy.ai@evil.com/model.glb", "user name"),
        ("https://evil.com@assets.meshy.ai/model.glb", "user name"),
        ("https://user:pass@assets.meshy.ai/model.glb", "user name"),
        ("https://assets.meshy.ai:8443/model.glb", "standard HTTPS port"),
        ("https://assets.meshy.ai:99999/model.glb", "not a valid"),
        ("https://\u0430ssets.meshy.ai/model.glb", "non-ASCII"),  # a Cyrillic look-alike "a"
        ("https://assets.meshy.ai\\.evil.com/model.glb", "Meshy asset host"),
        ("https://assets.meshy.ai/model glb", "spaces"),
        ("https://assets.meshy.ai/\nmodel.glb", "control"),
        ("http://127.0.0.1:8000/model.glb", "https"),  # loopback only when explicitly allowed
        ("https://localhost/model.glb", "Meshy asset host"),
        ("https://[::1]/model.glb", "Meshy asset host"),
        ("", "empty"),
        ("https://assets.meshy.ai/" + "a" * 5000, "too long"),
    ],
)
def test_anything_else_is_refused(url: str, why: str) -> None:
    with pytest.raises(PolicyError, match=why) as caught:
        check_download_url(url)
    assert caught.value.status == 400


def test_a_refusal_names_the_host_but_never_repeats_the_signed_query() -> None:
    with pytest.raises(PolicyError) as caught:
        check_download_url("https://evil.com/model.glb?Signature=secret-signature")
    assert "evil.com" in str(caught.value)
    assert "secret-signature" not in str(caught.value)


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8000/m.glb", "http://localhost:8000/m.glb", "https://127.0.0.1/m.glb", "http://[::1]/m"]
)
def test_loopback_downloads_only_when_allowed(url: str) -> None:
    with pytest.raises(PolicyError):
        check_download_url(url)
    assert check_download_url(url, allow_loopback=True) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://0.0.0.0:8000/m.glb",
        "http://192.168.1.1/m.glb",
        "http://localhost.evil.com/m.glb",
        "http://127.0.0.1@evil.com/m.glb",
        "ftp://127.0.0.1/m.glb",
    ],
)
def test_allowing_loopback_does_not_open_the_local_network(url: str) -> None:
    with pytest.raises(PolicyError):
        check_download_url(url, allow_loopback=True)


# -- names and bodies -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Wooden Chair", "Wooden Chair"),
        ("../../etc/passwd", "_.._etc_passwd"),
        ("C:\\Windows\\System32", "C:_Windows_System32"),
        ("a\x00b\x1bc\x7fd", "abcd"),
        ("line\nbreak\ttab", "linebreaktab"),
        ("evil\u202etxt.glb", "eviltxt.glb"),  # right-to-left override
        ("  spaced   out  ", "spaced out"),
        ("...hidden", "hidden"),
        ("Cafe\u0301", "Café"),  # normalised to one code point
        ("", DEFAULT_NAME),
        ("/\\", "__"),
        ("\x00\x01", DEFAULT_NAME),
        (None, DEFAULT_NAME),
        (42, DEFAULT_NAME),
    ],
)
def test_names_are_sanitised(raw: object, clean: str) -> None:
    assert sanitize_name(raw) == clean


def test_long_names_are_cut() -> None:
    name = sanitize_name("dragon " * 40)
    assert len(name) <= MAX_NAME_CHARS
    assert name.startswith("dragon dragon")
    assert name == name.strip()


def test_an_import_body_gives_the_url_and_a_clean_name() -> None:
    body = json.dumps({"url": f"  {SIGNED} ", "name": "My/Robot", "format": "glb", "taskId": "t-1"}).encode()
    assert parse_import(body) == (SIGNED, "My_Robot", "glb", 0.0)
    assert parse_import(json.dumps({"url": SIGNED}).encode()) == (SIGNED, DEFAULT_NAME, "", 0.0)


def test_the_web_apps_format_and_frame_rate_are_read() -> None:
    body = {"url": SIGNED, "format": "FBX", "name": "Walker", "frameRate": 30}
    assert parse_import(json.dumps(body).encode()) == (SIGNED, "Walker", "fbx", 30.0)


@pytest.mark.parametrize(
    ("extra", "why"),
    [
        ({"format": "usdz"}, "imports GLB and FBX"),
        ({"format": 3}, "imports GLB and FBX"),
        ({"frameRate": 0}, "frameRate"),
        ({"frameRate": "30"}, "frameRate"),
        ({"frameRate": True}, "frameRate"),
        ({"frameRate": 1e9}, "frameRate"),
    ],
)
def test_a_format_or_frame_rate_the_bridge_cannot_use_is_refused(extra: dict, why: str) -> None:
    with pytest.raises(PolicyError, match=why) as caught:
        parse_import(json.dumps({"url": SIGNED, **extra}).encode())
    assert caught.value.status == 400


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"url=https://assets.meshy.ai/m.glb", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b'"https://assets.meshy.ai/m.glb"', "JSON object"),
        (b'{"name": "chair"}', "no 'url'"),
        (b'{"url": 5}', "no 'url'"),
        (b'{"url": "   "}', "no 'url'"),
    ],
)
def test_malformed_bodies_are_refused(body: bytes, why: str) -> None:
    with pytest.raises(PolicyError, match=why) as caught:
        parse_import(body)
    assert caught.value.status == 400
