"""cobuild 共建: the 三单制 loop of needs (居民需求), resource offers (资源清单) and projects (惠民项目)."""
