"""`chaoying run` builds the till with the garbage collector off; the first frame freezes what start-up made
and turns collections back on (a faster start, and later collections never walk the start-up heap)."""
from __future__ import annotations

import gc


async def test_the_first_frame_freezes_the_start_up_heap_and_turns_collections_on(shop):
    app = shop.app()
    gc.disable()  # as tui.cli.main does for run and demo
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            assert gc.isenabled()  # never left off for the life of the till
            assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()  # this test process goes on to other tests
        gc.enable()


async def test_a_till_started_by_a_test_leaves_collections_alone(shop):
    app = shop.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert gc.isenabled() and gc.get_freeze_count() == 0  # nothing frozen where main() did not turn them off

