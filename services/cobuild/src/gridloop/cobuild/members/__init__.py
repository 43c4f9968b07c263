"""双报到: units reporting to communities, and members (报到党员, volunteers) registering and kept on the roll."""
