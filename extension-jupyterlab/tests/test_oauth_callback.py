"""The OAuth callback page (<base_url>ray-connect/oauth/callback) in a real jupyter_server with the fake agent."""

import json
import logging

import pytest

CODE = "good-code"


@pytest.fixture
def browser_sign_in(call, service):
    async def _start():
        redirect = "https://jupyter.test/ray-connect/oauth/callback"
        progress = (await call("beginSignIn", "context:fake", {"method": "browser", "redirectUri": redirect}))["result"]
        assert progress["kind"] == "browser"
        return progress

    return _start


async def callback(jp_fetch, headers=None, **params):
    return await jp_fetch("ray-connect", "oauth", "callback", params=params, headers=headers, raise_error=False)


async def test_a_good_redirect_signs_in_and_says_so(jp_fetch, jp_base_url, browser_sign_in, call, service, caplog):
    caplog.set_level(logging.DEBUG)
    await browser_sign_in()
    r = await callback(jp_fetch, code=CODE, state="s1", iss="https://idp")
    assert r.code == 200
    body = r.body.decode()
    assert "Signed in to fake" in body and "close this tab" in body
    assert r.headers["Content-Type"].startswith("text/html")
    assert r.headers["Cache-Control"] == "no-store"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    # the agent got the whole callback URL (it reads code, state, iss from it)
    handed = await service.agent.call("testLastCallback")
    assert f"{jp_base_url}ray-connect/oauth/callback?" in handed and f"code={CODE}" in handed and "state=s1" in handed
    assert (await call("listClusters"))["result"][0]["signIn"]["status"] == "signed-in"
    # logged: the request (so the check below can fail), never the code
    assert "oauth/callback" in caplog.text
    assert CODE not in caplog.text


async def test_access_denied_gives_the_reason_and_the_fix(jp_fetch, browser_sign_in, service, caplog):
    caplog.set_level(logging.DEBUG)
    await browser_sign_in()
    r = await callback(jp_fetch, error="access_denied", state="s1")
    assert r.code == 499
    body = r.body.decode()
    assert "Sign-in cancelled" in body and "denied at https://idp" in body and "Start the sign-in again" in body


async def test_an_answer_no_sign_in_waits_for_is_login_not_found(jp_fetch, browser_sign_in, service, caplog):
    caplog.set_level(logging.DEBUG)
    await browser_sign_in()
    r = await callback(jp_fetch, code="stolen-code-xyz", state="forged")
    assert r.code == 404
    assert "no longer in progress" in r.body.decode()
    assert "stolen-code-xyz" not in caplog.text
    # the real answer still works afterwards
    assert (await callback(jp_fetch, code=CODE, state="s1")).code == 200


async def test_the_page_escapes_what_it_shows(jp_fetch, browser_sign_in, service):
    await browser_sign_in()
    r = await callback(jp_fetch, code="html", state="s1")
    assert r.code == 502
    assert "<script>" not in r.body.decode() and "&lt;script&gt;" in r.body.decode()


async def test_without_jupyter_auth_it_is_403_and_no_login_redirect(jp_fetch, browser_sign_in, service, caplog):
    caplog.set_level(logging.DEBUG)
    await browser_sign_in()
    r = await callback(jp_fetch, headers={"Authorization": ""}, code="secret-code-abc", state="s1")
    assert r.code == 403
    assert "Location" not in r.headers  # the code must not travel on in a login `next=...`
    assert "Not signed in to Jupyter" in r.body.decode()
    assert "secret-code-abc" not in r.body.decode() and "secret-code-abc" not in caplog.text
    # and nothing was handed to the agent
    assert await service.agent.call("testLastCallback") is None


async def test_the_handshake_reports_the_browser_redirect_setting(jp_fetch, service):
    body = json.loads((await jp_fetch("ray-connect", "version")).body)
    assert body["browserRedirect"] == "auto"


@pytest.mark.parametrize(("env", "expected"), [("server", "server"), ("DEVICE", "device"), ("bogus", "auto")])
def test_browser_redirect_comes_from_the_env_when_not_configured(monkeypatch, env, expected):
    from ray_connect_jupyterlab.app import RayConnectApp

    monkeypatch.setenv("RAY_CONNECT_BROWSER_REDIRECT", env)
    assert RayConnectApp().browser_redirect == expected
