"""The case lifecycle: statuses and the dates they set."""
