"""Agents' work that is not a live call: callbacks to make and voicemail to hear (docs/desk.md)."""
