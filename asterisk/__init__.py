"""Everything that speaks to Asterisk: AMI client, FastAGI server, configuration, PBX simulator."""
