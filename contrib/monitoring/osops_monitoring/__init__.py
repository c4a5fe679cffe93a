"""osops-monitoring: checks for OpenStack services and their infrastructure."""
