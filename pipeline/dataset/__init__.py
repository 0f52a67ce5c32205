"""The input trees: their layouts, the video records, one adapter per dataset (FF++, Celeb-DF, DFDC) and
the registry choosing among them, FF++'s official splits."""
