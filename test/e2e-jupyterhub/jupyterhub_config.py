"""JupyterHub config of the e2e-jupyterhub tier (run.mjs starts the hub with it). Test-only.

Non-secret settings come as JSON in RC_HUB_CONFIG; the users' password and the admin API token in their own
environment variables (never argv). Hub, proxy and servers listen on 127.0.0.1 only.
"""

import json
import os

cfg = json.loads(os.environ["RC_HUB_CONFIG"])
run_dir = cfg["runDir"]
users_dir = cfg["usersDir"]

c = get_config()  # noqa: F821 - JupyterHub's config loader defines it

# ---- hub and proxy (configurable-http-proxy from npm, started and stopped by the hub)
c.JupyterHub.bind_url = f"http://127.0.0.1:{cfg['proxyPort']}"
c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{cfg['hubPort']}"
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{cfg['proxyApiPort']}"
c.ConfigurableHTTPProxy.command = cfg["chp"]  # [node, configurable-http-proxy]
c.ConfigurableHTTPProxy.pid_file = os.path.join(run_dir, "hub", "proxy.pid")
c.JupyterHub.db_url = "sqlite:///" + os.path.join(run_dir, "hub", "jupyterhub.sqlite")
c.JupyterHub.cookie_secret_file = os.path.join(run_dir, "hub", "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = os.path.join(run_dir, "hub", "jupyterhub.pid")
c.JupyterHub.cleanup_servers = True
c.JupyterHub.cleanup_proxy = True
c.JupyterHub.log_level = "INFO"

# ---- users: one shared test password (DummyAuthenticator's password is deprecated since 5.3); alice and bob only
c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = os.environ["RC_HUB_PASSWORD"]
c.Authenticator.allowed_users = set(cfg["users"])

# ---- the tests' admin token: start and stop servers, read their state (pid), issue tokens for the users
c.JupyterHub.services = [{"name": "e2e-admin", "api_token": os.environ["RC_HUB_ADMIN_TOKEN"]}]
c.JupyterHub.load_roles = [
    {
        "name": "e2e-admin",
        "scopes": ["admin:users", "admin:servers", "admin:server_state", "tokens", "access:servers"],
        "services": ["e2e-admin"],
    }
]

# ---- single-user servers: JupyterLab 4.6 with Ray Connect from the tier's venv, as the hub user's unix user
c.JupyterHub.spawner_class = cfg["spawner"]  # "localprocess" (distinct uids) or "simple" (fallback, see run.mjs)
if cfg["spawner"] == "simple":
    c.SimpleLocalProcessSpawner.home_dir_template = os.path.join(users_dir, "{username}", "home")
c.Spawner.cmd = [os.path.join(cfg["venv"], "bin", "jupyterhub-singleuser")]
c.Spawner.ip = "127.0.0.1"
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = os.path.join(users_dir, "{username}", "notebooks")
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 180


def per_user(sub):
    return lambda spawner: os.path.join(users_dir, spawner.user.name, sub)


c.Spawner.environment = {
    # the venv first; nothing of root's PATH (pyenv shims under /root are unreadable for these users)
    "PATH": os.path.join(cfg["venv"], "bin") + ":/usr/local/bin:/usr/bin:/bin",
    "SHELL": "/bin/bash",
    "KUBECONFIG": per_user("kubeconfig"),
    "RAY_CONNECT_CONFIG_DIR": per_user("ray-connect"),
    "RAY_CONNECT_OIDC_ISSUER": cfg["oidcIssuer"],
    "RAY_CONNECT_OIDC_CLIENT_ID": cfg["oidcClientId"],
    "RAY_CONNECT_OIDC_CA_FILE": cfg["caFile"],
    # The port-forward path: this tier proves the forwards (and that they serve only their user); the sandbox's
    # loopback pod network would otherwise let `auto` pick the direct path (integration tests cover that one).
    "RAY_CONNECT_PATH": "forward",
    # bob's server sends a remote browser back to its own callback; alice's keeps the default (device code offered)
    "RAY_CONNECT_BROWSER_REDIRECT": lambda spawner: "server" if spawner.user.name == "bob" else "auto",
    # everything the server writes stays in the run's per-user dir
    "JUPYTER_CONFIG_DIR": per_user("jupyter/config"),
    "JUPYTER_DATA_DIR": per_user("jupyter/data"),
    "JUPYTER_RUNTIME_DIR": per_user("jupyter/runtime"),
    "JUPYTERLAB_SETTINGS_DIR": per_user("jupyter/lab-settings"),
    "JUPYTERLAB_WORKSPACES_DIR": per_user("jupyter/lab-workspaces"),
    "IPYTHONDIR": per_user("jupyter/ipython"),
}
# not root's PYTHONPATH or conda settings
c.Spawner.env_keep = ["LANG", "LC_ALL"]
