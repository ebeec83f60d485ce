"""Extraction: tonight's calls of the Badges API, answered into the night's checkpoint."""
