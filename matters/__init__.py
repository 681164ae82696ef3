"""A resident's matter after the call: its life cycle with the city units, the signed links units
answer through, and the outbox every message to a unit or a resident leaves by."""
