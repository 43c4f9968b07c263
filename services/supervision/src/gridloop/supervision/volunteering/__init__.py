"""The 双报到 and volunteering indicators: supervision's reading of the volunteering topic (units'
reports and headcounts, members, posts, approved service records, points movements) and the yearly
figures it answers per community, street, district and unit, with the units' 红黑榜 and the persons'
红榜. The definitions are in docs/metrics.md, "双报到 and volunteering indicators"."""
