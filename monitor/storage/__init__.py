"""Storage: SQLAlchemy models, the database handle and the queries the pipeline needs."""


class StorageError(Exception):
    """The database cannot be opened or migrated; the message names the URL and problem.

    Defined here, not in `database`, so that catching it does not import SQLAlchemy.
    """
