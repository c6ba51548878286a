"""The ledger of record (Aurora PostgreSQL): its functions' package."""
