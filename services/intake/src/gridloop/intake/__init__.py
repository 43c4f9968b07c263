"""Intake (信息采集 / 立案): grid workers' reports become tickets."""
