"""Errors raised by the store, split by what the caller should do.

* ``StoreRetryableError`` - the write did not happen but may succeed later (the table was busy
  with concurrent commits past the writer's retries, or object storage did not answer). The
  rows stay buffered; flush again later.
* ``StorePermanentError`` - retrying the same call cannot succeed: a table's layout disagrees
  with this code, or another process writes under this writer's app id. Needs a person.

Both derive from ``StoreError``.
"""


class StoreError(Exception):
    """Base class of every store error."""


class StoreRetryableError(StoreError):
    """The write did not happen; the rows are still buffered and a later flush may succeed."""


class StorePermanentError(StoreError):
    """Retrying cannot help; the message says what to change."""


class SchemaMismatchError(StorePermanentError):
    """An existing table's columns or partitioning disagree with the code's table spec."""


class SchemaTooNewError(StorePermanentError):
    """The table was written by a newer V6 (higher schema version): upgrade V6 to write it."""


class WriterConflictError(StorePermanentError):
    """Another process committed under this writer's app id (two writers share an app id)."""


class WriteAheadLogError(StorePermanentError):
    """A writer's write-ahead log holds a record that is neither intact nor its torn end."""
