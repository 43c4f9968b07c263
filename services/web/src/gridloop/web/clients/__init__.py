"""Typed clients of the services the console calls, one per service, as the signed-in person
(their bearer token): each method is one route of that service and returns its response model
(gridloop.shared.api). How a refusal or a failure is told apart is written once, in `base`."""
