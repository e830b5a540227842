"""Controlled vocabularies: ethnic groups, places, subjects, agents, collections."""
