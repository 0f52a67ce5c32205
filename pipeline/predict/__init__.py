"""`lrl-predict`: score new videos and images with a trained checkpoint (inputs, score, output)."""
