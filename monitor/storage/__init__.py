"""Storage: SQLAlchemy models, the database handle and the queries the pipeline needs."""
