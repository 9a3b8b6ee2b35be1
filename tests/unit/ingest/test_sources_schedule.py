"""When a source is next due: the interval with up to 10% jitter after a good poll; after a failed one a
doubling backoff capped at the interval and never shorter than the server's Retry-After; the error keeps
the time it began."""

from __future__ import annotations

import datetime as dt

from services.ingest.sources.poller import PollResult
from services.ingest.sources.runner import next_values
from services.ingest.sources.state import Source
from shared.settings import Settings

NOW = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
SETTINGS = Settings(_env_file=None, sources_poll_s=900, sources_retry_s=60)  # type: ignore[call-arg]


def _in(values: dict[str, object], low: float, high: float) -> bool:
    due = values["next_poll_at"]
    assert isinstance(due, dt.datetime)
    return low <= (due - NOW).total_seconds() <= high


def test_a_good_poll_is_due_again_after_the_interval_with_jitter_and_clears_the_error() -> None:
    failing = Source(name="s", type="firstagenda", url="u", error="HTTP 500", error_since=NOW, failures=3)
    dues = [next_values(failing, PollResult(), SETTINGS, NOW) for _ in range(50)]
    assert all(_in(v, 900, 990) for v in dues)
    assert len({v["next_poll_at"] for v in dues}) > 1  # jittered, not in step
    assert dues[0]["error"] is None and dues[0]["failures"] == 0 and dues[0]["last_ok_at"] == NOW


def test_failures_back_off_doubling_up_to_the_interval_and_keep_when_the_error_began() -> None:
    began = NOW - dt.timedelta(hours=1)
    source = Source(name="s", type="firstagenda", url="u")
    for failures, low in ((0, 60), (1, 120), (2, 240), (3, 480), (4, 900), (9, 900)):
        if failures:
            source = Source(name="s", type="firstagenda", url="u", error="HTTP 500", error_since=began,
                            failures=failures)
        values = next_values(source, PollResult(error="HTTP 500"), SETTINGS, NOW)
        assert _in(values, low, low * 1.1), (failures, values["next_poll_at"])
        assert values["error_since"] == (began if failures else NOW)
        assert values["list_etag"] is None  # the next poll lists everything again


def test_retry_after_is_never_cut_short() -> None:
    source = Source(name="s", type="firstagenda", url="u")
    values = next_values(source, PollResult(error="HTTP 429", retry_after_s=3000), SETTINGS, NOW)
    assert _in(values, 3000, 3300)
