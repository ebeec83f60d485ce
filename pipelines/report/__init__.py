"""The earn report: the analytics models drawn as charts in one HTML page."""
