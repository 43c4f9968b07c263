"""Projects (惠民项目清单): matched needs and offers, and the hotspots that become projects."""
