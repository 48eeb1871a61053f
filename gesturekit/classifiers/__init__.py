"""Classifiers: Frames in, Detections out. :mod:`.rules` holds the YAML gesture rules."""
