"""Directory (目录): the reference data every other service learns through the directory topic."""
