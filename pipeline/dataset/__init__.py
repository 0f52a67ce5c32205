"""The input tree: its layout, the video records, the official splits and the scanner."""
