"""Loading a user's own campaign data into the raw tables: strict checks first, then one transaction."""
