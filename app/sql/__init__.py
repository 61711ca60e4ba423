"""Plans and pasted SQL become guarded, dialect-correct SQL."""
