"""Command-line and developer tools: the `bedrock-jobs` command, the demo, the UI
launcher, `init` (a dg project folder) and the docs generators."""
