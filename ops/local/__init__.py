"""The local AWS emulator: the moto server process and starting/stopping it."""
