"""积分: the points ledger, its earning, the shop, expiry and the reads."""
