"""Stage mappings: the YAML file RevOps edit to say which plan each Opportunity gets.

``model`` is its typed form, ``loader`` reads and validates a file (reporting every problem at
once), ``graph`` orders milestones by their dependencies, ``check`` compares the mapping's
stages with an org's. ``default.yaml`` is the mapping shipped for Salesforce's standard stages.
This package never imports ``sync``: the engine uses mappings, not the other way round.
"""
