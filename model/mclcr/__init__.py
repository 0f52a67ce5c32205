"""MC-LCR (Wang et al., 2021; only the abstract is public): one part a file.

config (MCLCRConfig, variants), style (shallow style block: Gram correlations of shallow features),
spectrum (patch-wise amplitude and phase dual attention), fusion, heads (classifier, projection head),
net (MCLCRNet), loss (CE + lambda * SupCon). What the abstract fixes and what we chose: README.
"""
