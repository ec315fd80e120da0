# Keep in step with package.json "version" (the frontend) and the agent's version: the handshake compares them.
__version__ = "0.1.0"
# The agent HTTP protocol this package speaks (shared/src/protocol.ts, through protocol.json).
from .protocol import PROTOCOL_VERSION as PROTOCOL_VERSION
