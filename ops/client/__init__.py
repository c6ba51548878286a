"""A client of the payments API that follows the platform as a real one would (`docs/client.md`)."""
