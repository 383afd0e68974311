"""Storage: the DatabaseEngine on SQLAlchemy 2 (SQLite by default, PostgreSQL supported)."""
