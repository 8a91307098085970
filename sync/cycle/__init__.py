"""The cycle: pull → gather → decide → push → commit, around one run.

    pull      sync.cycle.pull      what changed since the watermarks (one Composite call)
    gather    sync.cycle.gather    every read deciding needs, from Salesforce and the store
    decide    sync.cycle.decide    pure: the planner's plan, diffed by field ownership
    push      sync.cycle.push      upserts by external id, every record's outcome filed
    commit    sync.cycle.commit    shadow, index, dead letters, watermarks, run record: one
                                   local transaction, after the push outcome is known

``sync.cycle.sequence`` runs them in order for a cycle (:func:`run_cycle`) or for given
Opportunities (:func:`run_batch`); ``sync.cycle.run`` is the run around them.
"""

from sync.cycle.gather import OrgHolds
from sync.cycle.org import Org, Salesforce
from sync.cycle.report import RunReport
from sync.cycle.run import RunControl, StopToken
from sync.cycle.sequence import commit_pushed, decide_batch, run_batch, run_cycle

__all__ = ["Org", "OrgHolds", "RunControl", "RunReport", "Salesforce", "StopToken", "commit_pushed",
           "decide_batch", "run_batch",
           "run_cycle"]
