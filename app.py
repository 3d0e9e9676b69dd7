"""Nabaa in the browser: ``python app.py`` serves http://127.0.0.1:7860 by default, with
the OpenAI-compatible API at /v1 and MCP at /mcp on the same port.

Host, port, login and API token come from NABAA_HOST, NABAA_PORT, NABAA_AUTH_USER,
NABAA_AUTH_PASSWORD and NABAA_API_TOKEN (see rag/config.py).
"""

from rag.apps.server import serve
from rag.config import get_settings


def main() -> None:
    """Start the web app and the API on the configured host and port."""
    serve(get_settings())


if __name__ == "__main__":
    main()
