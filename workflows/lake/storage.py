"""Bytes under keys, on a folder or on S3, with the same semantics: manifests are stored exclusively.

A folder stores a manifest by a hard link (atomic, and refused if the name exists); S3 by a conditional put
(``If-None-Match: *``). Parts are copied in whole under a temporary name, then renamed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from abc import ABC, abstractmethod
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote, urlparse

from workflows.lake.errors import KeyMissingError, LakeError, ManifestExistsError


class Storage(ABC):
    """Bytes under keys. Two backends, the same semantics."""

    url: str

    @abstractmethod
    def put_file(self, local: Path, key: str) -> None: ...

    @abstractmethod
    def put_exclusive(self, key: str, body: bytes) -> None:
        """Store ``body`` at ``key`` atomically, or raise ManifestExistsError if the key exists."""

    @abstractmethod
    def get_bytes(self, key: str) -> bytes: ...

    @abstractmethod
    def list_keys(self, prefix: str) -> list[str]: ...

    @abstractmethod
    def open_read(self, key: str) -> IO[bytes]: ...

    @abstractmethod
    def local_path(self, key: str) -> Path | None:
        """The key's file on this machine, when the backend is a folder."""


class FolderStorage(Storage):
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.url = self.root.as_uri()

    def _path(self, key: str) -> Path:
        return self.root / key

    def put_file(self, local: Path, key: str) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
        shutil.copyfile(local, tmp)
        os.replace(tmp, target)

    def put_exclusive(self, key: str, body: bytes) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
        tmp.write_bytes(body)
        try:
            os.link(tmp, target)  # atomic, and fails if the name exists: a complete file or none
        except FileExistsError:
            raise ManifestExistsError(
                f"{self.url}/{key} already exists; manifests are never overwritten"
            ) from None
        finally:
            tmp.unlink()

    def get_bytes(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise KeyMissingError(f"{self.url}/{key} does not exist") from None

    def list_keys(self, prefix: str) -> list[str]:
        base = self._path(prefix.rstrip("/"))
        if not base.exists():
            return []
        return sorted(
            p.relative_to(self.root).as_posix()
            for p in base.rglob("*")
            if p.is_file() and not p.name.startswith(".")
        )

    def open_read(self, key: str) -> IO[bytes]:
        try:
            return self._path(key).open("rb")
        except FileNotFoundError:
            raise KeyMissingError(f"{self.url}/{key} does not exist") from None

    def local_path(self, key: str) -> Path | None:
        return self._path(key)


class S3Storage(Storage):
    def __init__(
        self, bucket: str, prefix: str = "", endpoint_url: str | None = None, client: Any = None
    ) -> None:
        import boto3

        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.url = f"s3://{bucket}/{self.prefix}".rstrip("/")
        self.client = client or boto3.client("s3", endpoint_url=endpoint_url)

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def put_file(self, local: Path, key: str) -> None:
        self.client.upload_file(str(local), self.bucket, self._key(key))

    def put_exclusive(self, key: str, body: bytes) -> None:
        from botocore.exceptions import ClientError

        try:
            self.client.put_object(
                Bucket=self.bucket, Key=self._key(key), Body=body, IfNoneMatch="*",
                ContentType="application/json",
            )  # fmt: skip
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in {"PreconditionFailed", "ConditionalRequestConflict", "412", "409"}:
                raise ManifestExistsError(
                    f"{self.url}/{key} already exists; manifests are never overwritten"
                ) from None
            raise LakeError(f"cannot write {self.url}/{key}: {code or exc}") from exc

    def get_bytes(self, key: str) -> bytes:
        with contextlib.closing(self.open_read(key)) as body:
            return body.read()

    def list_keys(self, prefix: str) -> list[str]:
        from botocore.exceptions import BotoCoreError, ClientError

        paginator = self.client.get_paginator("list_objects_v2")
        full = self._key(prefix)
        strip = len(self.prefix) + 1 if self.prefix else 0
        try:
            keys = [
                obj["Key"][strip:]
                for page in paginator.paginate(Bucket=self.bucket, Prefix=full)
                for obj in page.get("Contents", [])
            ]
        except (ClientError, BotoCoreError) as exc:
            raise LakeError(f"cannot list {self.url}/{prefix}: {exc}") from exc
        return sorted(keys)

    def open_read(self, key: str) -> IO[bytes]:
        from botocore.exceptions import ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]  # type: ignore[return-value]
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in {"NoSuchKey", "404"}:
                raise KeyMissingError(f"{self.url}/{key} does not exist") from None
            raise LakeError(f"cannot read {self.url}/{key}: {code or exc}") from exc

    def local_path(self, key: str) -> Path | None:
        return None


def open_storage(url: str, s3_endpoint_url: str | None = None) -> Storage:
    """``file:///abs/path`` or ``s3://bucket/prefix``."""
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return FolderStorage(Path(unquote(parsed.path)))
    if parsed.scheme == "s3":
        if not parsed.netloc:
            raise ValueError(f"lake URL {url!r} has no bucket: expected s3://bucket/prefix")
        return S3Storage(parsed.netloc, parsed.path, endpoint_url=s3_endpoint_url)
    raise ValueError(f"lake URL {url!r} is not supported: expected file:///path or s3://bucket/prefix")
