"""Types every stage shares (plan, answer, errors, settings); imports nothing of the product."""
