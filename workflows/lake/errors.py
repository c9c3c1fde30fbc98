"""What can go wrong in the lake; every message names the key."""

from __future__ import annotations


class LakeError(RuntimeError):
    """A lake operation failed; the message names the key."""


class KeyMissingError(LakeError):
    """The key holds nothing."""


class ManifestExistsError(LakeError):
    """A manifest with this key is already stored; manifests are never overwritten."""


class PartCorruptError(LakeError):
    """A part's bytes do not match its manifest (size or sha256): it was truncated or altered.

    Loading again cannot help; the day's ingest must be re-run.
    """

    retryable = False
