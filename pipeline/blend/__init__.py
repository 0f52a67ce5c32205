"""`lrl-prep blend`: forgeries made from real videos (self-blends, face swaps) with their masks, in an FF++
tree.

tree (ROOT2's layout, links, splits), faces (face tracks of every frame), sources (who gives a swap's face),
encode (PyAV writers), make (one fake: the worker), run (planning and the engine). The maths is
pipeline.kernels.blend.
"""
