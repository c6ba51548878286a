"""The data layer of one region: its key, audit bucket, payments table, Aurora cluster, backup and replication."""
