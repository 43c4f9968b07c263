"""Resource offers (资源清单) from the units stationed in the area (驻区单位)."""
