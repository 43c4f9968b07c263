"""The staff console: server-rendered pages (Jinja2 + htmx) for the street desk, the department
workbench, the command centre and the directory admin. Pages call the services' APIs with the
signed-in person's own token, so every rule and every scope stays where it is enforced today."""
