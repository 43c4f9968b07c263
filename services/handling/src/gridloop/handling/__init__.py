"""Handling (处置, 部门应 / 听哨接单): department inboxes and the work orders in them."""
