"""The raw zone: gzip NDJSON parts and the manifests that make them visible, on a folder or on S3.

A writer streams records into ``part-NNNNN-<run_id>.ndjson.gz`` files and, only when every part is stored,
writes one manifest listing each part with rows, bytes and sha256. Manifests are created exclusively and
never overwritten; a part that no manifest names does not exist for the loader.

One job per module: ``keys`` (layout, run ids), ``manifest``, ``storage`` (folder, S3), ``writer``,
``zone`` (the ``Lake`` that reads back verified parts), ``errors``. The names below are the public ones.
"""

from workflows.lake.errors import KeyMissingError, LakeError, ManifestExistsError, PartCorruptError
from workflows.lake.keys import (
    DATASETS,
    FLATFILE_DATASETS,
    MANIFEST_PREFIX,
    RAW_PREFIX,
    manifest_key,
    manifest_prefix,
    new_run_id,
    part_key,
)
from workflows.lake.manifest import MANIFEST_VERSION, Manifest, PartInfo
from workflows.lake.storage import FolderStorage, S3Storage, Storage, open_storage
from workflows.lake.writer import DEFAULT_ROWS_PER_PART, DatasetWriter, Source
from workflows.lake.zone import Lake

__all__ = [
    "DATASETS",
    "DEFAULT_ROWS_PER_PART",
    "FLATFILE_DATASETS",
    "MANIFEST_PREFIX",
    "MANIFEST_VERSION",
    "RAW_PREFIX",
    "DatasetWriter",
    "FolderStorage",
    "KeyMissingError",
    "Lake",
    "LakeError",
    "Manifest",
    "ManifestExistsError",
    "PartCorruptError",
    "PartInfo",
    "S3Storage",
    "Source",
    "Storage",
    "manifest_key",
    "manifest_prefix",
    "new_run_id",
    "open_storage",
    "part_key",
]
