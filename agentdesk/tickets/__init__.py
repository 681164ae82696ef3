"""Tickets: categories, city units, validation, numbering and storage."""
