"""Dagster-free work the assets call: intake, fetch-and-land, progress, alerts, the
closing summary and the HTML report. Plain functions over the client and the warehouse;
tests call them directly."""
