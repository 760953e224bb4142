"""Governance: an append-only audit log, compliance policies and sign-in safety."""
