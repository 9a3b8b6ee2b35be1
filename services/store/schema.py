"""Every table of the database, for the migrations: the store's, the alerts' and the sources'.

Each owner declares its own tables, on SQLModel's one metadata: the writer in services/store/models.py, the
alerts in services/alerts/models.py, ingest's sources in services/ingest/sources/models.py. A service imports
only its own; this module imports all three, so that `metadata` holds every table — what Alembic's env.py
migrates against and what the migration test compares with the migrated database.
"""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlmodel import SQLModel

from services.alerts import models as alerts_models
from services.ingest.sources import models as sources_models
from services.store import models as store_models

OWNERS = (store_models, alerts_models, sources_models)

metadata: MetaData = SQLModel.metadata
