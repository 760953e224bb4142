"""Web views, one module per area; each parses input, calls one service, renders."""
