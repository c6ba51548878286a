"""The ledger of record (Aurora PostgreSQL): migrations, status, reconciliation, through the ledger-admin function."""
