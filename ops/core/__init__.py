"""The bottom layer: paths, console, errors, the tool environment, AWS clients. Imports nothing else of `ops`."""
