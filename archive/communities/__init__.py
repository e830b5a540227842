"""Community groups, their cultural protocols, consent records and traditional-knowledge labels."""
