# Keep in step with package.json "version" (the frontend) and the agent's version: the handshake compares them.
__version__ = "0.1.0"
# shared/src/protocol.ts PROTOCOL_VERSION: the agent HTTP protocol this package speaks.
PROTOCOL_VERSION = 1
