"""Stage 1, policy: the texts as code.

Takes ``policies/*.yaml`` (each program citing its clause and quoting its sentence) and
gives frozen, validated :class:`~sim.policy.models.Policy` objects, the money and rate
parsers, the firm-attribute vocabulary, and the entitlement rules that the quote and both
engines share.  Imports nothing from later stages.
"""
