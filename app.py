"""Nabaa in the browser: ``python app.py`` serves http://127.0.0.1:7860 by default.

Host, port and login come from NABAA_HOST, NABAA_PORT, NABAA_AUTH_USER and
NABAA_AUTH_PASSWORD (see rag/config.py).
"""

from rag.apps.webui import WebApp
from rag.config import get_settings


def main() -> None:
    """Start the web app on the configured host and port."""
    settings = get_settings()
    print(f"Nabaa: open http://{settings.host}:{settings.port} (models load in the background)")
    WebApp(settings).launch()


if __name__ == "__main__":
    main()
