"""Stage 2, scenario: what the texts leave open, and the model an engine runs.

Takes ``scenarios/*.yaml`` (firms, take-up, timing, labelled assumptions, overrides of the
policies) and gives a validated :class:`~sim.scenario.schema.Scenario` with its policies
loaded, then the compiled :class:`~sim.scenario.model.Model`: programs and pools as small
integers and days.  Imports only from the policy stage.
"""
