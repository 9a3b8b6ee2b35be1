"""A real parser worker process whose parses take ~1.5 s of CPU (for pausing it mid-parse in tests).

Run: python -m tests.integration.parser_service.slow_worker REDIS_URL DATA_DIR TIMEOUT_S
"""

from __future__ import annotations

import sys
from pathlib import Path

from services.parser.app import create_app
from services.parser.bootstrap import bootstrap
from services.parser.pool import ParsePool
from shared.broker import make_broker
from shared.logging import configure_logging
from shared.service import run_app
from shared.settings import Settings
from tests.integration.parser_service import faults


def main() -> None:
    """Run the parser app until SIGTERM, with one delivery allowed: any counted failure dead-letters."""
    url, data_dir, timeout_s = sys.argv[1], Path(sys.argv[2]), float(sys.argv[3])
    configure_logging("INFO", "json", service="parser")
    settings = Settings(
        _env_file=None, redis_url=url, data_dir=data_dir, max_deliveries=1, parse_timeout_s=timeout_s,
        claim_idle_ms=120_000,
    )
    broker = make_broker(url, "parser")
    pool = ParsePool(timeout_s, settings.parse_memory_mb, target=faults.slow_then_parse)
    deps = bootstrap(settings, broker=broker, parser=pool)
    run_app(create_app(settings, deps=deps))


if __name__ == "__main__":
    main()
