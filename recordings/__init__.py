"""Call recordings: consent, MixMonitor on the bridge, storage layout, metadata, access, retention."""
