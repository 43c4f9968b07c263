"""The request and response models of the services' APIs that more than one side reads: each
service's routes answer with them, and the console's typed clients return them."""
