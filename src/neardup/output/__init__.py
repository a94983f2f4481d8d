"""Writing results: versioned JSON, CSV of pairs, a terminal table."""
