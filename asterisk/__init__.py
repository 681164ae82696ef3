"""Everything that speaks to Asterisk: AMI client, FastAGI server, shipped configuration, PBX simulator."""
