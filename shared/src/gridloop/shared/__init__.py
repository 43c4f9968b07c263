"""The library every GridLoop service uses: events, lifecycle, bus, outbox, storage and plumbing."""
