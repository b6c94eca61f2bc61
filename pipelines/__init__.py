"""bedrock-jobs: a Dagster code location for Bedrock job duration and failure analytics."""

__version__ = "0.1.0"
