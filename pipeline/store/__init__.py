"""Bytes in WORK and the contract training reads: atomic writes, PNGs, the shard schema, index and reader.

Imports neither `pipeline.engine` nor `pipeline.stages` (tests/test_layout.py guards it).
"""
