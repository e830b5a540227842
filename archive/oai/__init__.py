"""OAI-PMH 2.0 repository at ``/oai``: the public records in oai_dc, with sets, selective harvesting,
resumption tokens and persistent deleted records."""
