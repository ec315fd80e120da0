"""Ray Connect for JupyterLab: the labextension, and a server extension that runs the Ray Connect agent."""

from ._version import __version__


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "@ray-connect/jupyterlab"}]


def _jupyter_server_extension_points():
    from .app import RayConnectApp

    return [{"module": "ray_connect_jupyterlab", "app": RayConnectApp}]


__all__ = ["__version__"]
