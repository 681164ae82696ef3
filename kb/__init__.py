"""Knowledge base: service cards per department, Polish full-text search, topic mapping."""
