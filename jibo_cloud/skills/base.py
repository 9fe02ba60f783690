"""Glue between the §5 skill JSON contract and skills written against ResponsePlan.

A built-in skill is an async function ``(TurnContext) -> ResponsePlan``. :class:`PlanSkill`
wraps it into a :class:`jibo_cloud.services.SkillHandler`: it maps the request into a
TurnContext (:func:`protocol.plan.turn_from_skill_request`), calls the skill, and maps the plan
into the reply with the one mapper, :func:`protocol.plan.plan_to_skill_reply`. Skills never see
the wire format.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import attrs

from jibo_cloud.ids import new_id
from jibo_cloud.skills.household import (
    HouseholdSettingsCache,
    in_household_zone,
    in_household_zone_now,
)
from protocol.plan import (
    ResponsePlan,
    TurnContext,
    error_reply,
    plan_to_skill_reply,
    turn_from_skill_request,
)

log = logging.getLogger(__name__)

SkillFunction = Callable[[TurnContext], Awaitable[ResponsePlan]]
REQUEST_TYPES = ("LISTEN_LAUNCH", "LISTEN_UPDATE", "PROACTIVE_LAUNCH")


def new_msg_id() -> str:
    """A ``mid-<uuid-shaped>`` id like the robot's own (PROTOCOL.md §4.2; :mod:`jibo_cloud.ids`)."""
    return f"mid-{new_id()}"


@attrs.define
class PlanSkill:
    """A SkillHandler running a ResponsePlan skill in-process."""

    skill_id: str
    run: SkillFunction
    now_ms: Callable[[], int]
    default_time_zone: str = ""
    new_id: Callable[[], str] = new_msg_id
    #: For a skill that speaks times or dates: each turn's ``time_zone`` is the robot's
    #: household zone when it set one (:func:`in_household_zone`); None: CONTEXT's, else
    #: ``default_time_zone``.
    households: HouseholdSettingsCache | None = None
    #: The skill's answer without waiting (its ``plan_now``), if it has one.
    _plan_now: Callable[[TurnContext], ResponsePlan] | None = attrs.field(init=False)

    def __attrs_post_init__(self) -> None:
        self._plan_now = getattr(self.run, "plan_now", None)

    async def __call__(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        refused = self._refusal(request)
        if refused is not None:
            return refused
        turn = turn_from_skill_request(request, default_time_zone=self.default_time_zone)
        turn = await in_household_zone(self.households, turn)
        return self._reply(turn, await self.run(turn))

    def answer_now(self, request: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """The reply without waiting, when the skill can give one (it has a ``plan_now`` and
        the robot's household, if the skill reads it, is cached); None: await the handler.
        The hub calls this inline, sparing a task and a timer per turn (docs/hub.md)."""
        if self._plan_now is None:
            return None
        refused = self._refusal(request)
        if refused is not None:
            return refused
        turn = turn_from_skill_request(request, default_time_zone=self.default_time_zone)
        zoned = in_household_zone_now(self.households, turn)
        if zoned is None:
            return None
        return self._reply(zoned, self._plan_now(zoned))

    def _refusal(self, request: Mapping[str, Any]) -> Mapping[str, Any] | None:
        kind = request.get("type")
        if kind in REQUEST_TYPES:
            return None
        return error_reply(
            f"skill {self.skill_id} cannot handle request type {kind!r}; expected one of "
            + ", ".join(REQUEST_TYPES),
            msg_id=self.new_id(),
            now_ms=self.now_ms(),
        )

    def _reply(self, turn: TurnContext, plan: ResponsePlan) -> Mapping[str, Any]:
        log.debug("skill %s intent=%s status=%s", self.skill_id, turn.intent, plan.status.value)
        return plan_to_skill_reply(
            plan, skill_id=self.skill_id, msg_id=self.new_id(), now_ms=self.now_ms(), turn=turn
        )
