"""The night: one snapshot planned, extracted, normalized, gated, sealed and published."""
