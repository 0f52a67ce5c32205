"""lrl preprocessing: FaceForensics++ videos -> face crops -> masks -> HDF5 shards."""

__version__ = "0.2.0"
