"""The compute layer of one region: the payments API, its functions, queues, events, alarms and parameters."""
