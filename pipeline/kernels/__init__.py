"""Pure kernels on frames and arrays: decoding, face detection and tracking, crops, masks, the DCT cue."""
