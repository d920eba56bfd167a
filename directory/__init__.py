"""The organization directory's input/output side: import and export (YAML,
CSV), the shipped example organization, the synthetic generator, and the
service functions the workflow and ``reviewctl serve`` call."""
