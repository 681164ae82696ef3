"""The Open311 GeoReport v2 API: the city portal and the mobile app report matters that live the
same life as the desk's (docs/open311.md)."""
