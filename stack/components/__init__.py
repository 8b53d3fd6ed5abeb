"""The stack's components: each knows how to configure, start and probe one process."""
