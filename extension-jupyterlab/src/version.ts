/** This frontend's version; the server extension refuses another (handshake). Keep in step with package.json and
 * ray_connect_jupyterlab/_version.py (tests/test_version.py checks). */
export const VERSION = '0.1.0';
