"""The platform's API keys: their values live in one Secrets Manager secret that ops owns (`api_key`)."""
