"""osops-upgrade: is this deployment ready for the next OpenStack release?"""
