"""The planner: one Opportunity and its current plan in, the plan it should have out.

This is mapsync's brain and it is pure — no I/O, no clock: ``today`` and the calendar are
arguments — so every rule is a table-driven or property test, and planning a plan that is
already written (and unchanged) returns exactly what was written (idempotent). It composes:
``schedule`` (work-back due dates), ``progress`` (stage progress and the rep's pinned edits),
``slip`` (projections, cause, health) and ``measures`` (on-time rates, a plan that stopped
moving, the compelling event).

Whether a plan exists:
- a deleted Opportunity has none (``None``; removing its plan is the sync's job);
- a plan is created once the stage reaches the mapping's ``create_at`` stage (Closed Won
  included, Closed Lost not); an existing plan is never dropped by the planner, even when the
  stage moves back below ``create_at`` (its stage-completed milestones reopen);
- Closed Lost cancels the plan and leaves its milestones as they are; Closed Won completes
  every before-close milestone while the after-close ones (kickoff, go-live, ROI) stay live;
  a plan whose milestones are all Done or Skipped is Completed.

The template is the plan's own (the one mapsync last wrote: a rep's edit is put back) while
the mapping has it, else the first whose rule matches, else the default; with none there is
nothing to plan. A plan whose template changed since it was built keeps its milestones until
the change is applied (``frozen``). Percent complete counts Done and Skipped; the next
milestone is the open one due first. A milestone a rep deleted (``PlanState.deleted``) is
neither written nor counted; one a rep added (a key the template lacks) is not written but
counts (``added``); one complete at the start is complete before tracking (``progress``).
A won deal projects its close date; rep-owned values are a new plan's initial values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from config.errors import PlanningError
from config.salesforce_dates import SALESFORCE_DATE_RANGE, in_salesforce_range
from mappings.model import StageMapping, Template
from mappings.version import template_version
from sync.planner.added import Step, StepLike, added_steps, latest_end, rollup
from sync.planner.calendar import BusinessCalendar
from sync.planner.drafts import build_milestone, build_plan, for_opportunity, with_owners
from sync.planner.frozen import held_schedule, is_held, rebaselined
from sync.planner.fused import Line, lines, steady_plan
from sync.planner.measures import measured
from sync.planner.model import (
    ACTIVE,
    CANCELLED,
    COMPLETED,
    FINISHED_STATUSES,
    SKIPPED,
    DesiredMilestone,
    DesiredPlan,
    Opportunity,
    PlanState,
)
from sync.planner.numbers import NO_NUMBERS
from sync.planner.owners import contacts_by_role, owner_of, users_by_role
from sync.planner.progress import StageProgress
from sync.planner.schedule import ScheduleBook
from sync.planner.slip import cause_text, days_slipped, health, plan_days_slipped, project
from sync.planner.statics import MilestoneStatic, compiled, rule_path, rule_value, stage_answers
from sync.planner.steady import resolve_all

_NEW_PLAN_MEMO_LIMIT, _TEMPLATE_MEMO_LIMIT, _UNKNOWN = 8192, 4096, object()
NAME, WHY = "Name", "Why_It_Matters__c"  # rep-pinnable wording
OWNER_CONTACT, OWNER_USER = "Owner_Contact__c", "Owner_User__c"  # the rep's to choose


class Planner:
    """``plan`` bound to one mapping and calendar.

    It remembers what does not differ between Opportunities: each template compiled once with
    its dates per close date, template choices by the fields rules read, and the day's first
    plans per (template, close date, stage). All of it derives from immutable inputs, so the
    answer is always the one planning afresh would give; it only costs less (a backfill of
    100,000 deals takes seconds).
    """

    def __init__(self, mapping: StageMapping, calendar: BusinessCalendar | None = None,
                 *, roll_out: bool = False) -> None:
        self.mapping = mapping
        self.roll_out = roll_out  # mapsync mappings apply: every plan takes the mapping
        self.fused = True  # the usual re-plan in one pass (False: always the general path)
        self._versions: dict[str, str] = {}
        self.calendar = calendar or BusinessCalendar.from_spec(mapping.calendar)
        self._stage_index = {s.casefold(): i for i, s in enumerate(mapping.stages)}
        create_at = self._stage_index.get(mapping.create_at.casefold())
        self._create_at = create_at if create_at is not None else 0
        self._won = mapping.closed_won.casefold()
        self._lost = mapping.closed_lost.casefold()
        self._book = ScheduleBook()
        self._rule_paths = tuple(rule_path(path) for path in dict.fromkeys(
            c.field for t in mapping.templates for c in t.when))
        self._progress: dict[str, StageProgress] = {}  # by the stage as Salesforce spells it
        self._by_name: dict[str, Template] = {}
        for t in mapping.templates:  # ``StageMapping.template``: the first of a name
            self._by_name.setdefault(t.name, t)
        self._stages: dict[tuple[str, StageProgress, dt.date],
                           tuple[tuple[bool | None, ...], tuple[dt.date | None, ...]]] = {}
        self._chosen: dict[tuple[tuple[type, object], ...], object] = {}
        self._statics: dict[str, tuple[MilestoneStatic, ...]] = {}
        self._keys: dict[str, frozenset[str]] = {}  # each template's distinct keys
        self._lines: dict[str, tuple[Line, ...]] = {}  # as the one-pass re-plan reads them
        self._new_plans: dict[tuple[str, dt.date, StageProgress, dt.date], DesiredPlan] = {}
        self._new_plans_day: dt.date | None = None

    def plan(
        self, opportunity: Opportunity, current: PlanState | None, today: dt.date
    ) -> DesiredPlan | None:
        """The plan ``opportunity`` should have, or ``None`` when there is none to write.

        ``None``: the Opportunity is deleted; or it has no plan and should not get one yet
        (before ``create_at``, Closed Lost, no close date); or no template applies to it.
        Raises :class:`PlanningError` for a CloseDate Salesforce could not hold (1700..4000).
        """
        if opportunity.is_deleted:
            return None
        progress = self._progress.get(opportunity.stage)
        if progress is None:
            stage = opportunity.stage.casefold()
            progress = StageProgress(
                self._stage_index.get(stage), closed_won=stage == self._won,
                closed_lost=stage == self._lost,
            )
            if len(self._progress) < _TEMPLATE_MEMO_LIMIT:
                self._progress[opportunity.stage] = progress
        if current is None and (
            progress.closed_lost or progress.position is None or progress.position < self._create_at
        ):
            return None
        close = opportunity.close_date or (current.target_close_date if current else None)
        if close is not None and not in_salesforce_range(close):
            raise PlanningError(f"Opportunity {opportunity.id}: CloseDate {close} is outside "
                                f"Salesforce's date range {SALESFORCE_DATE_RANGE}")
        if close is None:
            if current is None:
                return None
            close = today
        template = self._template(opportunity, current)
        if template is None:
            return None
        if current is None:  # measured once for all that share it
            return self._new_plan(opportunity, template, progress, close, today)
        version = self.version(template)
        held = is_held(current, version, self.roll_out)
        if self.fused and not (held or self.roll_out or progress.closed_lost or current.deleted):
            self._static(template)  # compiled once: the template's keys and lines
            steady = steady_plan(  # the usual re-plan in one pass; None: it is not usual
                opportunity, current, template.name, version, self._lines[template.name],
                self._keys[template.name], self._book.schedule(template, self.calendar),
                close, today, self._by_stage(template, progress, today), self.calendar,
                self.mapping.health, progress.closed_won)
            if steady is not None:
                return steady
        contacts = contacts_by_role(opportunity)  # for milestones new to an existing plan
        desired = self._build(opportunity.id, contacts, current, template, progress, close,
                              today, owner_of(opportunity), held, users_by_role(opportunity))
        return measured(desired, current, self.mapping.health, self.calendar, today,
                        won=progress.closed_won)

    def version(self, template: Template) -> str:
        """The mapping version of ``template`` a plan built now records."""
        version = self._versions.get(template.name)
        if version is None:
            version = self._versions[template.name] = template_version(template)
        return version

    # --- steps ------------------------------------------------------------------------------

    def _template(self, opportunity: Opportunity, current: PlanState | None) -> Template | None:
        if current is not None and current.own_template:
            own = self._by_name.get(current.own_template)
            if own is not None:
                return own
        return self._select(opportunity)

    def _select(self, opportunity: Opportunity) -> Template | None:
        """``StageMapping.select_template``, remembered by the values its rules read.

        A rule reads only the fields it names, so two Opportunities that agree on those
        fields (type included) get the same template; a backfill asks the same few
        questions (Type, record type, amount bands) many thousand times.
        """
        read = []
        for first, rest in self._rule_paths:
            value = rule_value(opportunity, first, rest)
            read.append((type(value), value))
        key = tuple(read)
        try:
            chosen = self._chosen.get(key, _UNKNOWN)
        except TypeError:  # a value that cannot be a key (a nested record): just ask
            return self.mapping.select_template(opportunity.rule_fields())
        if chosen is _UNKNOWN:
            if len(self._chosen) >= _TEMPLATE_MEMO_LIMIT:
                self._chosen.clear()
            chosen = self._chosen[key] = self.mapping.select_template(opportunity.rule_fields())
        return chosen if isinstance(chosen, Template) else None

    def _new_plan(
        self,
        opportunity: Opportunity,
        template: Template,
        progress: StageProgress,
        close: dt.date,
        today: dt.date,
    ) -> DesiredPlan:
        """A first plan. Opportunities that share template, close date, stage and day get
        the same plan but for their id and owners, so that plan is built and measured once
        (a backfill plans thousands of deals closing at the same month and quarter ends); a
        first plan's numbers do not depend on who owns its milestones."""
        if today != self._new_plans_day:  # yesterday's first plans will not be asked again
            self._new_plans.clear()
            self._new_plans_day = today
        key = (template.name, close, progress, today)
        shared = self._new_plans.get(key)
        if shared is None:
            if len(self._new_plans) >= _NEW_PLAN_MEMO_LIMIT:
                self._new_plans.clear()
            built = self._build("", {}, None, template, progress, close, today)
            shared = measured(built, None, self.mapping.health, self.calendar, today,
                              won=progress.closed_won)
            self._new_plans[key] = shared
        milestones = shared.milestones
        owner, team = owner_of(opportunity), users_by_role(opportunity)
        if opportunity.contact_roles or owner is not None or team:
            contacts = contacts_by_role(opportunity)
            named = list(milestones)
            for i, s in enumerate(self._static(template)):
                contact_id = contacts.get(s.role_folded) if s.names_contact else None
                user_id = (team.get(s.role_folded) or owner) if s.seller else None
                if contact_id is not None or user_id is not None:
                    named[i] = with_owners(named[i], contact_id or named[i].owner_contact_id,
                                           user_id or named[i].owner_user_id)
            milestones = tuple(named)
        return for_opportunity(shared, opportunity.id, milestones)

    def _build(
        self,
        opportunity_id: str,
        contacts: Mapping[str, str],
        current: PlanState | None,
        template: Template,
        progress: StageProgress,
        close: dt.date,
        today: dt.date,
        owner_user: str | None = None,
        held: bool = False,
        team: Mapping[str, str] | None = None,
    ) -> DesiredPlan:
        schedule = self._book.schedule(template, self.calendar)
        statics = self._static(template)
        scheduled = schedule.due_dates(close)
        if current is not None:
            states, deleted = current.milestones, current.deleted
            found = [states.get(s.key) for s in statics]
        else:
            states, deleted, found = {}, frozenset(), [None] * len(statics)
        if held:  # the mapping changed since the plan was built: its milestones stay
            scheduled, lacking = held_schedule(statics, states, scheduled)
            deleted = deleted | lacking
        frozen = progress.closed_lost
        late_before_close = not frozen and not progress.closed_won
        stage_done, overdue_today = self._by_stage(template, progress, today)
        resolved = resolve_all(found, stage_done, scheduled, today, frozen)
        if self.roll_out:  # a mapping rolled out re-commits what it re-dates: no slip
            resolved = [rebaselined(r, state) for r, state in zip(resolved, found, strict=True)]
        statuses, completed, due, _, _ = zip(*resolved, strict=True)  # by field
        if deleted:  # holds nobody up
            statuses = tuple(SKIPPED if s.key in deleted else status
                             for s, status in zip(statics, statuses, strict=True))
        if None in due:
            due = tuple(d or date for d, date in zip(due, scheduled, strict=True))
        calendar = self.calendar
        projection = project(schedule.graph, calendar, close, scheduled, statuses, due,
                             completed, overdue_today)
        milestones: list[DesiredMilestone] = []
        dates, team = projection.dates, team or {}
        for i, s in enumerate(statics):
            if deleted and s.key in deleted:
                continue
            status, completed_date, due_date, baseline, pinned = resolved[i]
            state = found[i]
            seller = (team.get(s.role_folded) or owner_user) if s.seller else None
            late = overdue_today[i] if status not in FINISHED_STATUSES else None
            if due_date == baseline and (late is None or late <= due_date):
                slipped = 0
            else:
                slipped = days_slipped(calendar, baseline, due_date, late)
            if state is None:
                owner = contacts.get(s.role_folded) if s.names_contact else None
                milestones.append(build_milestone(
                    s.key, s.name, i + 1, s.stage, s.side, s.role, s.why, s.depends_on,
                    baseline, due_date, completed_date, status, slipped, dates[i],
                    owner, None, pinned, seller))
                continue
            # the rep's owner, or the role's contact when still empty
            owner, notes, user = state.owner_contact_id, state.notes, state.owner_user_id
            if owner is None and s.names_contact and OWNER_CONTACT not in pinned:
                owner = contacts.get(s.role_folded)
            if seller is not None and OWNER_USER not in pinned:  # follows team and owner
                user = seller
            name = state.name if NAME in pinned else None
            why = state.why if WHY in pinned else None
            milestones.append(build_milestone(
                s.key, name or s.name, (state.sequence if held else None) or i + 1, s.stage,
                s.side, s.role, s.why if why is None else why, s.depends_on,
                baseline, due_date, completed_date, status, slipped,
                dates[i], owner, notes, pinned, user,
            ))
        projected_close = projection.close
        cause: str | None = None
        if projection.cause is not None and statics[projection.cause].key not in deleted:
            culprit = next(m for m in milestones if m.key == statics[projection.cause].key)
            cause = cause_text(culprit.name, culprit.side)
        added = added_steps(current, schedule.graph.keys, len(statics))
        if late_before_close:
            added_late = latest_end(added, self.calendar, close, today)
            if added_late is not None and added_late[0] > projected_close:
                projected_close = added_late[0]
                cause = cause_text(added_late[1].name, "Rep-added")
        if progress.closed_won:  # the deal is won: its close is the close, nothing slipped
            projected_close, cause = close, None
        return self._plan(opportunity_id, current, template, tuple(milestones), added, progress,
                          close, projected_close, cause, held)

    def _plan(
        self,
        opportunity_id: str,
        current: PlanState | None,
        template: Template,
        milestones: tuple[DesiredMilestone, ...],
        added: tuple[Step, ...],
        progress: StageProgress,
        close: dt.date,
        projected_close: dt.date,
        cause: str | None,
        held: bool = False,
    ) -> DesiredPlan:
        steps: tuple[StepLike, ...] = milestones + added
        percent, upcoming = rollup(steps)
        if progress.closed_lost:
            status = CANCELLED
        elif steps and upcoming is None:  # nothing open
            status = COMPLETED
        else:
            status = ACTIVE
        slipped = plan_days_slipped(self.calendar, close, projected_close)
        if current is None:
            statics = self._statics[template.name]
            go_live = next((m.due_date for m, s in zip(milestones, statics, strict=True)
                            if s.go_live), None)
            summary = template.summary or None
            criteria = template.success_criteria or None
        else:
            go_live, summary, criteria = (
                current.go_live_date, current.summary, current.success_criteria
            )
        return build_plan(
            opportunity_id, template.name, status, health(slipped, self.mapping.health),
            percent, close, projected_close, go_live, slipped,
            cause if slipped > 0 else None,
            upcoming.name[:255] if upcoming else None, upcoming.due_date if upcoming else None,
            summary, criteria, milestones, NO_NUMBERS, None, None,
            current.mapping_version if held and current is not None else self.version(template),
        )

    def _by_stage(self, template: Template, progress: StageProgress, today: dt.date
                  ) -> tuple[tuple[bool | None, ...], tuple[dt.date | None, ...]]:
        """Whether the stage completes each milestone (``StageProgress.completes``), and
        ``today`` for each that can be overdue today (else ``None``)."""
        key = (template.name, progress, today)
        answer = self._stages.get(key)
        if answer is None:
            if len(self._stages) >= _TEMPLATE_MEMO_LIMIT:
                self._stages.clear()
            answer = self._stages[key] = stage_answers(self._static(template), progress, today)
        return answer

    def _static(self, template: Template) -> tuple[MilestoneStatic, ...]:
        statics = self._statics.get(template.name)
        if statics is None:
            statics = self._statics[template.name] = compiled(template, self._stage_index)
            self._keys[template.name] = frozenset(s.key for s in statics)
            self._lines[template.name] = lines(statics)
        return statics


def plan(
    opportunity: Opportunity,
    current: PlanState | None,
    mapping: StageMapping,
    calendar: BusinessCalendar,
    today: dt.date,
) -> DesiredPlan | None:
    """The plan ``opportunity`` should have given its current plan (``None``: none to write).

    Pure: the result depends only on the arguments. For one Opportunity; to plan many, hold a
    :class:`Planner`, which compiles each template once.
    """
    return Planner(mapping, calendar).plan(opportunity, current, today)
