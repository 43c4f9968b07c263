"""What the services answer and what they are sent, as models both sides import: one module per service."""
