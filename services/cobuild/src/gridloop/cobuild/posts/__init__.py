"""公益岗位: standing volunteer posts in a grid, claimed and released by members."""
