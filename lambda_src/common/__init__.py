"""What every function of the runtime shares: JSON logging, API Gateway responses, per-container caches."""
