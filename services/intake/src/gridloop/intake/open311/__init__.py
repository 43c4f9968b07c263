"""Open311 GeoReport v2: 311 client applications file and follow reports through the standard API."""
