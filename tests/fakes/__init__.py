"""Test doubles for external services (run in-process on loopback)."""
