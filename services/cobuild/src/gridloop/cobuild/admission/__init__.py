"""社区事务准入: departments ask to put tasks on communities; the lists or the district decide."""
