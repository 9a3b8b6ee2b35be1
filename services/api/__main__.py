"""`python -m services.api`: the read API and web page on the process's settings."""

from services.api.server import serve
from shared.logging import configure_logging
from shared.settings import get_settings

if __name__ == "__main__":
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format, service="api")
    raise SystemExit(serve(settings))
