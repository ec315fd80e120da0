"""Jupyter server config for the UI tests: galata's test setup (no token, galata's in-page helpers), plus Ray Connect.

Never use this outside tests: it removes Jupyter's security protections (galata's own warning)."""

from jupyterlab.galata import configure_jupyter_server

configure_jupyter_server(c)  # noqa: F821 - `c` is the config object Jupyter passes in
c.ServerApp.jpserver_extensions = {"ray_connect_jupyterlab": True}  # noqa: F821
# Disable the "news" and update prompts that would cover the page.
c.LabApp.news_url = None  # noqa: F821
c.LabApp.check_for_updates_class = "jupyterlab.NeverCheckForUpdate"  # noqa: F821
