"""Social networks: the provider interface, one module per network, connected accounts."""
