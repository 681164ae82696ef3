"""Callers' personal data across kck: retention of their identity, one person's export and erasure."""
