"""Where pmi keeps its state: one data directory (``PMI_HOME``) holding the warehouse, MLflow and Feast."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel

DEFAULT_HOME = "data"


class PmiPaths(BaseModel):
    """Absolute paths of everything pmi writes, derived from one home directory so tests can redirect it."""

    home: Path

    @property
    def warehouse(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def mlflow_dir(self) -> Path:
        return self.home / "mlflow"

    @property
    def feast_dir(self) -> Path:
        return self.home / "feast"

    @property
    def dashboard_page(self) -> Path:
        """The executive dashboard (one self-contained HTML page)."""
        return self.home / "dashboard" / "index.html"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"

    def ensure(self) -> PmiPaths:
        """Create the home directory (idempotent) and return self."""
        self.home.mkdir(parents=True, exist_ok=True)
        return self


def pmi_paths(home: str | os.PathLike[str] | None = None) -> PmiPaths:
    """Resolve the data directory: explicit argument, else ``PMI_HOME``, else ``./data``.

    Nothing is written back to the environment: callers pass the returned paths on (a Dagster resource, function
    arguments), and the one child process that reads ``PMI_HOME`` (dbt's profile) gets it for its invocation only.
    """
    raw = home if home is not None else os.environ.get("PMI_HOME", DEFAULT_HOME)
    return PmiPaths(home=Path(raw).expanduser().resolve())


# --- Deployment profile: the embedded default or the production shape (README "Production configuration") ---------
EMBEDDED, PRODUCTION = "embedded", "production"
PROFILE_ENV = "PMI_PROFILE"


class ProductionSettings(BaseModel):
    """Where the production shape's services live; every field reads one ``PMI_*`` environment variable.

    One PostgreSQL server holds the Dagster instance and MLflow in databases of their own, so each can be moved,
    backed up or dropped on its own, and a third for dbt's `postgres` target; the pipeline's warehouse stays DuckDB
    (README "Production configuration" says why); Redis serves Feast's online store; RabbitMQ carries Celery's steps.
    """

    pg_host: str = "127.0.0.1"
    pg_port: int = 5432
    pg_user: str = "postgres"
    pg_password: str = ""
    dagster_db: str = "pmi_dagster"
    mlflow_db: str = "pmi_mlflow"
    # dbt's `postgres` target: the raw tables copied from DuckDB (ml/warehouse/postgres_raw.py) and the models on them.
    warehouse_db: str = "pmi_warehouse"
    redis_host: str = "127.0.0.1"
    redis_port: int = 6379
    redis_db: int = 0
    celery_broker: str = "pyamqp://guest:guest@127.0.0.1:5672//"
    celery_backend: str = "rpc://"
    celery_queue: str = "dagster"  # the queue steps go to and workers listen on (one per deployment)
    # Parallel steps open the DuckDB file in turn (one writer at a time): how long a step waits for it.
    warehouse_lock_wait_seconds: float = 600.0

    def postgres_url(self, database: str) -> str:
        """SQLAlchemy URL (psycopg2 driver) of one database on the server."""
        auth = self.pg_user + (f":{self.pg_password}" if self.pg_password else "")
        return f"postgresql+psycopg2://{auth}@{self.pg_host}:{self.pg_port}/{database}"

    @property
    def redis_connection_string(self) -> str:
        """Feast's Redis form: ``host:port,db=N`` (a password would follow as ``,password=...``)."""
        return f"{self.redis_host}:{self.redis_port},db={self.redis_db}"


ENV_FIELDS = {
    "pg_host": "PMI_PG_HOST",
    "pg_port": "PMI_PG_PORT",
    "pg_user": "PMI_PG_USER",
    "pg_password": "PMI_PG_PASSWORD",
    "dagster_db": "PMI_PG_DAGSTER_DB",
    "mlflow_db": "PMI_PG_MLFLOW_DB",
    "warehouse_db": "PMI_PG_WAREHOUSE_DB",
    "redis_host": "PMI_REDIS_HOST",
    "redis_port": "PMI_REDIS_PORT",
    "redis_db": "PMI_REDIS_DB",
    "celery_broker": "PMI_CELERY_BROKER",
    "celery_backend": "PMI_CELERY_BACKEND",
    "celery_queue": "PMI_CELERY_QUEUE",
    "warehouse_lock_wait_seconds": "PMI_WAREHOUSE_LOCK_WAIT",
}


class ProfileError(ValueError):
    """A profile setting that cannot be used; the message names the environment variable."""


def active_profile() -> str:
    """``PMI_PROFILE``: 'embedded' (default: DuckDB, sqlite, in-process, no service touched) or 'production'."""
    name = os.environ.get(PROFILE_ENV, EMBEDDED).strip().lower() or EMBEDDED
    if name not in (EMBEDDED, PRODUCTION):
        raise ProfileError(f"{PROFILE_ENV}={name!r}: expected '{EMBEDDED}' or '{PRODUCTION}'")
    return name


def is_production() -> bool:
    return active_profile() == PRODUCTION


def production_settings() -> ProductionSettings:
    """The services of the production shape, from the ``PMI_*`` variables of ``ENV_FIELDS`` (defaults: localhost)."""
    values = {field: os.environ[env] for field, env in ENV_FIELDS.items() if os.environ.get(env, "") != ""}
    try:
        return ProductionSettings(**values)
    except ValueError as exc:
        bad = {ENV_FIELDS[str(e["loc"][0])] for e in getattr(exc, "errors", list)()}
        raise ProfileError(f"invalid production setting {', '.join(sorted(bad))}: {exc}") from exc
