"""The `sloapi` subcommands (`check`, `rules`, `serve`)."""
