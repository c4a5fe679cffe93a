"""Log pipelines: records, the filter and sink contracts, and the generic plugins."""
