"""boto3 against the flat-file endpoint, with its failures sorted into what a person can act on.

Objects are read with GET, never HEAD: a HEAD error has no body, so a wrong key and a missing object would
both be a bare 403. Messages name the endpoint, bucket and key, never an access key or secret.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from workflows.settings import FlatFilesSettings

#: Error codes that mean the keys are wrong: no retry can help, and the message must say so.
CREDENTIAL_CODES = frozenset({"InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidClientTokenId"})
#: Codes for "nothing there for you": the vendor answers 403 for a file that is not (yet) published.
MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound", "AccessDenied", "403", "Forbidden"})

Problem = Literal["credentials", "missing", "other"]


class FlatFileError(RuntimeError):
    """A flat-file request failed; ``problem`` says how (the step decides retryable for ``missing``)."""

    def __init__(self, message: str, *, problem: Problem, retryable: bool) -> None:
        super().__init__(message)
        self.problem = problem
        self.retryable = retryable


@dataclass(frozen=True)
class ObjectInfo:
    """What the endpoint says about one object: the manifest's ``stats.origin``."""

    bucket: str
    key: str
    etag: str
    last_modified: str  # ISO-8601 UTC
    size: int

    def as_dict(self) -> dict[str, Any]:
        return {"bucket": self.bucket, "key": self.key, "etag": self.etag,
                "last_modified": self.last_modified, "size": self.size}  # fmt: skip


class FlatFilesClient:
    """One bucket on one S3-compatible endpoint, with the flat-file keys (not the REST key, not AWS's)."""

    def __init__(self, endpoint_url: str, bucket: str, access_key_id: str, secret_access_key: str) -> None:
        import boto3
        from botocore.config import Config

        self.endpoint_url, self.bucket = endpoint_url, bucket
        self._s3: Any = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            region_name="us-east-1",
            config=Config(retries={"max_attempts": 5, "mode": "standard"}, signature_version="s3v4"),
        )

    @classmethod
    def from_settings(cls, flatfiles: FlatFilesSettings) -> FlatFilesClient:
        if not flatfiles.credentials_set:
            raise FlatFileError(
                "flat files need POLYGON_FLATFILES_ACCESS_KEY_ID and POLYGON_FLATFILES_SECRET_ACCESS_KEY (the "
                "vendor's flat-file keys, not POLYGON_API_KEY)",
                problem="credentials",
                retryable=False,
            )
        assert flatfiles.access_key_id is not None and flatfiles.secret_access_key is not None
        return cls(
            flatfiles.endpoint_url,
            flatfiles.bucket,
            flatfiles.access_key_id.get_secret_value(),
            flatfiles.secret_access_key.get_secret_value(),
        )

    def where(self, key: str) -> str:
        return f"{self.endpoint_url}/{self.bucket}/{key}"

    @contextmanager
    def open(self, key: str) -> Iterator[tuple[ObjectInfo, Any]]:
        """GET an object: its info and its body (a stream, closed on exit, read as much as wanted)."""
        try:
            reply = self._s3.get_object(Bucket=self.bucket, Key=key)
        except Exception as exc:
            raise self._classify(exc, key) from None
        modified: dt.datetime = reply["LastModified"]
        info = ObjectInfo(
            self.bucket,
            key,
            str(reply["ETag"]).strip('"'),
            modified.astimezone(dt.UTC).isoformat(timespec="seconds"),
            int(reply["ContentLength"]),
        )
        body = reply["Body"]
        try:
            yield info, body
        finally:
            body.close()

    def upload(self, local: Path, key: str) -> None:
        """Store a local file under ``key`` (multipart when large, as boto3 decides)."""
        try:
            self._s3.upload_file(str(local), self.bucket, key)
        except Exception as exc:
            raise self._classify(exc, key) from None

    def ensure_bucket(self) -> None:
        """Create the bucket if it is not there (the simulator's endpoint; the vendor's always has it)."""
        try:
            self._s3.head_bucket(Bucket=self.bucket)
        except Exception:
            self._s3.create_bucket(Bucket=self.bucket)

    def _classify(self, exc: Exception, key: str) -> FlatFileError:
        """Turn a boto error into a FlatFileError whose text holds no key material."""
        from botocore.exceptions import BotoCoreError, ClientError

        where = self.where(key)
        if isinstance(exc, ClientError):
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in CREDENTIAL_CODES:
                return FlatFileError(
                    f"the flat-file endpoint {self.endpoint_url} refused the keys ({code}) reading {where}: check "
                    "POLYGON_FLATFILES_ACCESS_KEY_ID and POLYGON_FLATFILES_SECRET_ACCESS_KEY (the flat-file keys "
                    "from the vendor's dashboard, not POLYGON_API_KEY)",
                    problem="credentials",
                    retryable=False,
                )
            if code in MISSING_CODES:
                return FlatFileError(f"{where}: no such object ({code})", problem="missing", retryable=True)
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            return FlatFileError(
                f"{where}: {code or status}",
                problem="other",
                retryable=int(status or 500) >= 500 or status == 429,
            )
        if isinstance(exc, BotoCoreError):
            return FlatFileError(f"{where}: {type(exc).__name__}", problem="other", retryable=True)
        return FlatFileError(f"{where}: {type(exc).__name__}: {exc}", problem="other", retryable=True)
