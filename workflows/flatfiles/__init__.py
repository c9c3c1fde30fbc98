"""Polygon's flat files: one gzip CSV object per dataset and trading day on an S3-compatible endpoint.

``objects`` says where each day's object lives, what its header is and when it is published; ``client`` talks
to the endpoint with boto3 and turns its errors into clear, classified ones; ``embedded`` runs a throwaway
local endpoint (moto in server mode) for the embedded mode. The ingest step is ``workflows.steps.flatfiles``,
the simulator's publisher ``workflows.simulator.flatfiles``.
"""

from workflows.flatfiles.client import FlatFileError, FlatFilesClient, ObjectInfo
from workflows.flatfiles.objects import (
    COLUMNS,
    DATASETS_BY_NAME,
    HEADER,
    dataset_names,
    published_at,
    vendor_key,
)

__all__ = [
    "COLUMNS",
    "DATASETS_BY_NAME",
    "HEADER",
    "FlatFileError",
    "FlatFilesClient",
    "ObjectInfo",
    "dataset_names",
    "published_at",
    "vendor_key",
]
