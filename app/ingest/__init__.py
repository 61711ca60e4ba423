"""Import a Stripe Data Pipeline delivery or Sigma CSVs into a warehouse (docs/import.md)."""
