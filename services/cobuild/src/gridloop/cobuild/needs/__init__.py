"""Needs (居民需求, 微心愿): collected, reviewed, published or assigned, claimed, served, delivered, rated."""
