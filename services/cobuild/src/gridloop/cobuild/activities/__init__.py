"""服务活动 and 过程纪实: activities, sign-ups, check-in/out, service records and certificates."""
