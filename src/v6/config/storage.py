"""Storage configuration: where the Delta tables live and how the writer keeps them compact."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import Field, SecretStr, field_validator, model_validator

from v6.config._base import HIDDEN, ConfigPart, Conflict, FromEnvironmentOnly, raise_conflicts

OBJECT_STORE_SCHEMES = ("s3://", "s3a://")
MIN_VACUUM_RETENTION_HOURS = 24
CREDENTIAL_WORDS = ("secret", "token", "password", "access_key", "key_id", "credential")

SecretFromEnvironment = Annotated[SecretStr | None, FromEnvironmentOnly()]


class StorageConfig(ConfigPart):
    """Delta Lake location, object-storage options, and table maintenance cadence."""

    location: str = Field(
        default="./data",
        min_length=1,
        description="Local directory (relative to the working directory) or s3://bucket/prefix; "
        "tables live under <location>/tables/.",
    )
    storage_options: dict[str, str] = Field(
        default_factory=dict,
        description="Non-secret object-store options passed to deltalake (e.g. aws_region, "
        "aws_endpoint_url, aws_allow_http). Credentials come from the environment.",
    )
    access_key_id: SecretFromEnvironment = Field(
        default=None, description="Object-store access key id (environment only)."
    )
    secret_access_key: SecretFromEnvironment = Field(
        default=None, description="Object-store secret access key (environment only)."
    )
    session_token: SecretFromEnvironment = Field(
        default=None, description="Object-store session token (environment only)."
    )
    writer_flush_rows: int = Field(
        default=10_000, ge=1, le=1_000_000, description="Buffered rows that trigger a write."
    )
    writer_flush_interval_seconds: float = Field(
        default=5.0, gt=0, le=3600, description="Longest time a row waits in the buffer."
    )
    compact_every_commits: int = Field(
        default=100, ge=1, description="Compact and checkpoint a table after this many commits."
    )
    vacuum_retention_hours: int = Field(
        default=168,
        ge=MIN_VACUUM_RETENTION_HOURS,
        description="Vacuum keeps files younger than this (at least 24 h, so readers and "
        "time travel keep working).",
    )

    @field_validator("location")
    @classmethod
    def _local_path_or_s3(cls, location: str) -> str:
        if "://" in location and not location.startswith(OBJECT_STORE_SCHEMES):
            raise ValueError("a local path or an s3://bucket/prefix URI")
        return location

    @model_validator(mode="after")
    def _no_credentials_in_options(self) -> Self:
        raise_conflicts(
            Conflict(
                f"storage_options.{key}",
                HIDDEN,
                "no credentials here; set V6_STORAGE__ACCESS_KEY_ID, "
                "V6_STORAGE__SECRET_ACCESS_KEY and V6_STORAGE__SESSION_TOKEN in the "
                "environment instead",
            )
            for key in self.storage_options
            if any(word in key.lower() for word in CREDENTIAL_WORDS)
        )
        return self

    @property
    def is_object_store(self) -> bool:
        """True when the tables live in object storage rather than on a local disk."""
        return self.location.startswith(OBJECT_STORE_SCHEMES)

    def deltalake_storage_options(self) -> dict[str, str]:
        """The options for deltalake: the non-secret options plus the credentials that are set."""
        options = dict(self.storage_options)
        credentials = {
            "aws_access_key_id": self.access_key_id,
            "aws_secret_access_key": self.secret_access_key,
            "aws_session_token": self.session_token,
        }
        for key, secret in credentials.items():
            if secret is not None:
                options[key] = secret.get_secret_value()
        return options
