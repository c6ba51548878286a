"""Operator tooling: the local emulator, state bootstrap, synth, per-stack plan/apply/destroy, outputs."""
