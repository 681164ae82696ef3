"""Call recordings: start on bridge, storage layout, metadata, retention and access audit."""
