"""What the till shows of its sync (pure functions over a SyncStatus), the backoff and the late tills."""
from __future__ import annotations

import datetime

from tui import i18n
from tui.services.sync import SyncStatus, load_hooks, next_backoff, redacted, stale_tills

TODAY = datetime.date(2026, 3, 5)
AT_1402 = datetime.datetime(2026, 3, 5, 14, 2, 31)


def test_the_backoff_doubles_from_one_second_to_thirty_and_starts_again_at_one():
    waits = []
    current = 0.0
    for _ in range(8):
        current = next_backoff(current)
        waits.append(current)
    assert waits == [1, 2, 4, 8, 16, 30, 30, 30]
    assert next_backoff(0.0) == 1  # a round that works resets it to 0


def test_the_strip_says_online_or_offline_since_when_with_the_records_to_send():
    from tui.screens.status import sync_problem, sync_text

    assert sync_text(SyncStatus(online=True), TODAY) == "在线"
    assert sync_text(SyncStatus(online=True, waiting=3), TODAY) == "在线 · 待发送 3 条"
    offline = SyncStatus(online=False, offline_since=AT_1402, waiting=12, error="The server cannot be reached.")
    assert sync_text(offline, TODAY) == "离线自 14:02 · 待发送 12 条"
    assert sync_text(offline, TODAY + datetime.timedelta(days=1)) == "离线自 03-05 14:02 · 待发送 12 条"
    assert sync_text(SyncStatus(), TODAY) == "正在连接服务器"
    assert sync_problem(offline) == "同步：The server cannot be reached."
    assert sync_problem(SyncStatus(online=True)) == ""
    refused = SyncStatus(online=True, waiting=2, refused="Two tills claim id 1.")
    assert sync_text(refused, TODAY) == "服务器拒收 · 待发送 2 条" and sync_problem(refused) == "同步：Two tills claim id 1."
    i18n.set_language("en")
    assert sync_text(offline, TODAY) == "offline since 14:02 · 12 to send"
    assert sync_text(SyncStatus(online=True), TODAY) == "online"


def test_passwords_never_reach_a_sentence():
    assert redacted("cannot reach postgresql://till:s3cret@10.0.0.1/shop") == "cannot reach postgresql://till:***@10.0.0.1/shop"
    assert redacted("dsn host=x password=s3cret user=y") == "dsn host=x password=*** user=y"


def test_a_hook_whose_module_is_missing_is_left_out():
    assert load_hooks([("store.no_such_module_here", "pull")]) == []
    found = load_hooks([("store.money", "format_yuan")])
    assert [name for name, _ in found] == ["store.money.format_yuan"]


def test_tills_late_by_more_than_warn_minutes_are_listed_oldest_first():
    now = datetime.datetime(2026, 3, 5, 15, 0)
    heads = [{"till_id": "1", "last_at": now - datetime.timedelta(minutes=3), "refusal": ""},
             {"till_id": "2", "last_at": now - datetime.timedelta(minutes=20), "refusal": ""},
             {"till_id": "3", "last_at": None, "refusal": ""},
             {"till_id": "4", "last_at": now - datetime.timedelta(hours=2), "refusal": ""}]
    late = stale_tills(heads, now, 15)
    assert [(row["till_id"], row["minutes"]) for row in late] == [("3", None), ("4", 120), ("2", 20)]


def test_the_owners_view_lines_name_each_late_till_and_each_refusal():
    from tui.screens.owner import sync_lines

    now = datetime.datetime(2026, 3, 5, 15, 0)
    heads = [{"till_id": "1", "last_at": now, "refusal": ""},
             {"till_id": "2", "last_at": datetime.datetime(2026, 3, 5, 14, 2), "refusal": "Two tills claim id 2."}]
    lines = sync_lines(heads, now, 15)
    assert lines == ["同步（门店服务器）", "  收银台 2 已 58 分钟没有同步（最后 03-05 14:02）",
                     "  收银台 2 被服务器拒收：Two tills claim id 2."]
    assert sync_lines(heads[:1], now, 15) == ["同步（门店服务器）", "  所有收银台都在 15 分钟内同步过"]


def test_a_server_failure_is_logged_as_its_sentence_a_bug_with_its_traceback(caplog):
    """The server stopped is the network's doing: its sentence says it all, a traceback in the log would be noise
    (the real till under tmux logged four for one outage). Anything else the round raised is a bug: traced."""
    import logging

    from store.server import ServerError
    from tui.services.sync import HookFailed, SyncWorker, expected

    gone = ServerError("The shop's server postgresql://u:***@h/shop cannot be reached: Connection refused.")
    assert expected(gone) and expected(HookFailed("store.shared_data.pull", gone))
    assert not expected(RuntimeError("a bug")) and not expected(HookFailed("store.x.pull", KeyError("k")))
    worker = SyncWorker("postgresql://u:pw@h/shop", "1")
    with caplog.at_level(logging.ERROR, logger="chaoying.sync"):
        worker._failed(gone)
        worker._failed(HookFailed("store.x.pull", KeyError("k")))
    server, bug = caplog.records
    assert "cannot be reached" in server.getMessage() and server.exc_info is None
    assert "store.x.pull failed" in bug.getMessage() and bug.exc_info is not None
