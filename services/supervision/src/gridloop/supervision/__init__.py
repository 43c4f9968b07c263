"""Supervision (综合评价): timelines and turnaround figures projected from every ticket event."""
