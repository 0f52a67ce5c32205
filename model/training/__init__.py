"""Training and evaluation of the LRL network on HDF5 shards (paper section 4.1)."""
