"""kck: the composition root — settings, database, Redis, event bus and the command line."""
