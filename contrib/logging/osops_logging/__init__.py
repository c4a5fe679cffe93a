"""osops-logging: parsers, filters and sinks for OpenStack logs, registered as plugins."""
