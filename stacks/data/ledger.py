"""The ledger of record in Aurora PostgreSQL: what the layers that reach it share.

`LEDGER_WRITER_ROLE` is the application role the payment functions log in as with IAM database authentication.
It is named here once: the compute layer grants `rds-db:connect` as it and passes it to the functions
(`LEDGER_USER`), and the migrations create the role from that value.
"""

from __future__ import annotations

LEDGER_WRITER_ROLE = "ledger_writer"
