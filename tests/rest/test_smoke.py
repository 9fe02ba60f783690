from __future__ import annotations

from tests.rest.support import LOOP_ID, ROBOT_ID, ROBOT_NAME, RestClient


async def test_list_loops_names_the_robot(client: RestClient) -> None:
    loops = await client.ok("Loop_20160324.ListLoops", {}, service="Loop")
    assert [lp["id"] for lp in loops] == [LOOP_ID]
    assert loops[0]["robot"] == ROBOT_ID
    assert loops[0]["robotFriendlyId"] == ROBOT_NAME
    assert len(loops[0]["members"]) == 1
