"""Rules a real AWS account enforces and the emulator does not, checked over the `aws` target's synthesized JSON."""
