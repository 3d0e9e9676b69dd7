"""Errors with messages meant for the user: the CLI and the UI show them as they are."""


class NabaaError(Exception):
    """Base class: something the user can fix, with a message that says how."""


class ModelError(NabaaError):
    """A model file or folder is missing, damaged or of the wrong kind."""


class IndexCorruptError(NabaaError):
    """The index on disk is unreadable or inconsistent; rebuilding fixes it."""


class OldIndexFormatError(IndexCorruptError):
    """The index was written by an earlier version; updating converts (or rebuilds) it."""


class EmptyCorpusError(NabaaError):
    """There are no readable articles to index."""
