"""`python -m services.store`: run one store worker until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio

from services.store.app import create_app
from shared.logging import configure_logging
from shared.settings import get_settings


def main() -> None:
    """Configure logging from the settings and run the store app."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format, service="store")
    asyncio.run(create_app(settings).run())


if __name__ == "__main__":
    main()
