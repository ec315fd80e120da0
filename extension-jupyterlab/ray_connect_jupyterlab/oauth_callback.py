"""`<base_url>ray-connect/oauth/callback`: where the identity provider sends the browser back after a browser sign-in
started from a page that is not on this server's host (JupyterHub, a workbench). The redirect is handed to the agent
(`finishBrowserSignIn`), which checks state and PKCE and redeems the code; this page only says how it went.

A GET from the provider, so no XSRF token; Jupyter's authentication applies (the browser has the Jupyter cookie). An
unauthenticated request gets a 403 page, not a redirect to the login page: the code must not travel on in a `next`
parameter. Nothing here logs the query (jupyter_server's access log scrubs `code` and `state`).
"""

from __future__ import annotations

import html

import tornado.web

from .agent import AgentError
from .handlers import BaseHandler

TITLES = {
    "LOGIN_CANCELLED": "Sign-in cancelled",
    "LOGIN_NOT_FOUND": "This sign-in is no longer in progress",
    "LOGIN_STATE_MISMATCH": "Not the answer to this sign-in",
}


def page(title: str, text: str, fix: str | None = None) -> str:
    more = f"<p>{html.escape(fix)}</p>" if fix else ""
    return (
        '<!doctype html><html><head><meta charset="utf-8"><meta name="referrer" content="no-referrer">'
        f"<title>{html.escape(title)}</title></head><body><h1>{html.escape(title)}</h1>"
        f"<p>{html.escape(text)}</p>{more}</body></html>"
    )


class OAuthCallbackHandler(BaseHandler):
    def _page(self, status: int, title: str, text: str, fix: str | None = None) -> None:
        self.set_status(status)
        self.set_header("Cache-Control", "no-store")
        # The URL holds the code: never send it on as a Referer.
        self.set_header("Referrer-Policy", "no-referrer")
        self.finish(page(title, text, fix), set_content_type="text/html; charset=utf-8")

    def write_error(self, status_code: int, **kwargs) -> None:  # type: ignore[override]
        if status_code == 403:
            self._page(
                403,
                "Not signed in to Jupyter",
                "This browser is not signed in to this Jupyter server, so the sign-in cannot be finished here.",
                "Open JupyterLab in this browser, then start the sign-in again from the Ray panel.",
            )
        else:
            super().write_error(status_code, **kwargs)

    @tornado.web.authenticated
    async def get(self) -> None:
        try:
            result = await self.service.agent.call("finishBrowserSignIn", self.request.full_url())
        except AgentError as e:
            fix = e.fix or "Start the sign-in again from the Ray panel."
            self._page(e.status if 400 <= e.status < 600 else 502, TITLES.get(e.code, "Sign-in failed"), e.message, fix)
            return
        name = str((result or {}).get("clusterName") or (result or {}).get("clusterId") or "the cluster")
        self._page(200, f"Signed in to {name}", "You can close this tab and go back to JupyterLab.")
