"""Synthesis and what is read from it: the synth cache, the stack graph, configuration fingerprints, checkov."""
