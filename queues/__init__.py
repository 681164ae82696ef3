"""Skill-based queueing: waiting calls and agents in Redis, matching, offers and statistics."""
