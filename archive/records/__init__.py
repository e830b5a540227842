"""Heritage records: the festivals, customs, rituals, performances, crafts and oral traditions."""
