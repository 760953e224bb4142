"""Test and benchmark support that ships with Chorus (no Django imports here)."""
