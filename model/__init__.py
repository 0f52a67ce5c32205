"""The LRL network (Chen et al., AAAI 2021): two streams, RFAM, MPSM, decoder, losses."""
