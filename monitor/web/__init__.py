"""The team's web workplace: the German UI (server-rendered) and the REST API under /api/v1."""
