"""Dispatch (派遣, 街道呼): routing rules, deadlines, the street queue and manual assignment."""
