"""Exceptions of jeugdkit: every message names the file, the variable and what was expected."""

from __future__ import annotations


class JeugdkitError(Exception):
    """Base class of all errors the kit raises on purpose."""


class CatalogError(JeugdkitError):
    """The dataset catalog (shipped or user) is malformed or names something unknown."""


class DatasetNotFoundError(JeugdkitError):
    """No file of a dataset (or of a requested year) exists under the data root."""


class VariableNotFoundError(JeugdkitError):
    """A file lacks a variable the catalog says it has."""


class ReadError(JeugdkitError):
    """A file could not be read (unreadable, truncated, not SPSS)."""


class DataValueError(JeugdkitError):
    """A value in a file is not what the contract allows (e.g. an unparseable date)."""


class DisclosureError(JeugdkitError):
    """An output would break the output-control rules and was blocked."""


class PeriodError(JeugdkitError):
    """A period label is not a year (2023) or a half-year (2023H1, 2023H2)."""


class ReconciliationError(JeugdkitError):
    """A reconciliation does not close: records appeared or vanished without a reason."""


class CacheWarning(UserWarning):
    """A cache entry was damaged or did not match its source; it was removed and rebuilt."""
