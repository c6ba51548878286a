"""Operator tooling, in layers (each imports only the ones below it; `make lint` checks it):

cli -> traffic -> deploy | pipeline -> terraform -> build | state | local -> core
"""
