"""The 共建 indicators: supervision's reading of the needs topic (needs, offers, projects and
solved hotspots, one record each) and the figures it answers per grid, community, street and
district. The definitions are in docs/metrics.md, "共建 indicators"."""
