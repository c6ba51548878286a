"""`region-alarms`: which of the platform's alarms exist in a region and which of them fire (for the rollout engine)."""
