"""Settings of the test suite itself (env prefix MINUTES_TEST_)."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class TestSettings(BaseSettings):
    """Where the suite finds PostgreSQL, and whether it runs in CI (where nothing may be skipped)."""

    __test__ = False  # not a test class, despite the name
    model_config = SettingsConfigDict(env_prefix="MINUTES_TEST_", extra="ignore")

    postgres_url: str | None = Field(default=None, description="postgresql+asyncpg://... of a scratch DB")
    redis_server_bin: str | None = Field(default=None, description="redis-server binary for the suite")
    ci: bool = Field(default=False, validation_alias="CI")
