"""The services' response models and request bodies, shared with the console that reads and sends them."""
