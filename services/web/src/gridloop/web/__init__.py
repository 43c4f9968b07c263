"""GridLoop web: sign-in and the pages people use; it holds sessions only, never ticket data."""
