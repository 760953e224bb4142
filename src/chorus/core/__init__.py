"""Small pieces every domain app shares: service errors and time-zone helpers."""
