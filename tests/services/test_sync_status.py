"""What the till shows of its sync (pure functions over a SyncStatus), the backoff and the late tills."""
from __future__ import annotations

import datetime

from tui import i18n
from tui.services.sync import HookFailed, SyncStatus, default_hooks, next_backoff, redacted, shown, stale_tills

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


def test_the_rounds_hooks_are_the_other_parts_called_directly_shop_stock_last():
    from store import shared_data, shop_stock, shop_wide

    assert default_hooks() == [("store.shared_data.pull", shared_data.pull), ("store.shop_wide.push", shop_wide.push),
                               ("store.shop_stock.pull", shop_stock.pull)]


def test_the_servers_failures_are_said_in_chinese_on_a_chinese_screen_and_in_english_in_the_log():
    from store.server import BatchRefused, ServerError
    from tui.screens.status import sync_problem
    from tui.services.sync import sentence

    gone = ServerError("The shop's server postgresql://till:***@10.0.0.9/shop cannot be reached: timeout expired.",
                       "server_unreachable", url="postgresql://till:***@10.0.0.9/shop", detail="timeout expired")
    assert shown(gone) == "连不上门店服务器 postgresql://till:***@10.0.0.9/shop：timeout expired"
    assert sentence(gone) == str(gone)  # the log's
    two = BatchRefused("Two tills claim id 1: ...", "sync_two_tills", till="1", instance="abc")
    assert shown(two).startswith("两台收银机都用编号 1：")
    gap = BatchRefused("Till 1's records 5-6 are missing before record 7.", "sync_gap", till="1", seq=7, head=4)
    assert shown(gap) == "收银台 1 第 7 条记录之前缺了记录（服务器上到第 4 条）"
    in_hook = HookFailed("store.shop_wide.push", ServerError("The server refused the request: boom", "server_failed",
                                                             detail="boom"))
    assert shown(in_hook) == "门店服务器拒绝了请求：boom"
    broken = HookFailed("store.shop_wide.push", RuntimeError("the hook is broken"))
    assert shown(broken) == "与门店服务器同步失败：store.shop_wide.push 出错：the hook is broken"
    assert "store.shop_wide.push" in sentence(broken)
    no_words = ServerError("Something new went wrong.", "server_something_new")
    assert shown(no_words) == "门店服务器：Something new went wrong."
    missing = ServerError("The shop's server could not be read: x.", "server_error")  # no detail: the frame
    assert shown(missing) == "门店服务器：The shop's server could not be read: x."
    status = SyncStatus(online=False, offline_since=AT_1402, error=sentence(gone), shown_error=shown(gone))
    assert sync_problem(status) == "同步：连不上门店服务器 postgresql://till:***@10.0.0.9/shop：timeout expired"
    refused = SyncStatus(online=True, refused=sentence(two), shown_refused=shown(two))
    assert sync_problem(refused).startswith("同步：两台收银机都用编号 1：")
    i18n.set_language("en")
    assert shown(gap) == "Till 1's records are missing before record 7 (the server holds up to 4)."
    assert shown(gone) == str(gone)


def test_this_tills_line_of_sync_status_says_its_last_error_and_another_tills_to_send_as_of_its_last_batch():
    from tui.cli.sync import _line

    mine = {"till": "1", "this_till": True, "sent_seq": 40, "sent_at": "2026-03-05 14:00:07", "waiting": 3,
            "refusal": "", "last_error": "The shop's server x cannot be reached: timeout expired.",
            "last_error_at": "2026-03-05 14:02:31"}
    assert _line(mine, TODAY) == ("till 1 (this till): last sent record 40 at 2026-03-05 14:00:07; 3 to send; "
                                  "last error at 14:02: The shop's server x cannot be reached: timeout expired.")
    assert "last error at 2026-03-05 14:02:" in _line(mine, TODAY + datetime.timedelta(days=1))
    other = {"till": "2", "this_till": False, "sent_seq": 9, "sent_at": None, "waiting": 12, "refusal": ""}
    assert _line(other) == "till 2: last sent record 9; 12 to send as of its last batch"
    assert _line({**other, "waiting": None}).endswith("; to send: known on that till (it has not reported)")


def test_tills_late_by_more_than_warn_minutes_are_listed_oldest_first():
    now = datetime.datetime(2026, 3, 5, 15, 0)
    heads = [{"till_id": "1", "last_at": now - datetime.timedelta(minutes=3), "refusal": ""},
             {"till_id": "2", "last_at": now - datetime.timedelta(minutes=20), "refusal": ""},
             {"till_id": "3", "last_at": None, "refusal": ""},
             {"till_id": "4", "last_at": now - datetime.timedelta(hours=2), "refusal": ""}]
    late = stale_tills(heads, now, 15)
    assert [(row["till_id"], row["minutes"]) for row in late] == [("3", None), ("4", 120), ("2", 20)]


def test_a_tills_silence_is_measured_by_the_servers_clock_not_the_tills():
    """A server in UTC and tills in China: last_at is 8 hours "behind" the till's clock, yet the till synced
    a minute ago by the server's own reckoning (silent_s, store.server.till_heads)."""
    now = datetime.datetime(2026, 3, 5, 15, 0)
    heads = [{"till_id": "1", "last_at": now - datetime.timedelta(hours=8), "silent_s": 60, "refusal": ""},
             {"till_id": "2", "last_at": now, "silent_s": 3600, "refusal": ""}]
    assert [(row["till_id"], row["minutes"]) for row in stale_tills(heads, now, 15)] == [("2", 60)]


def test_the_owners_view_lines_name_each_late_till_and_each_refusal():
    from tui.screens.owner import sync_lines

    now = datetime.datetime(2026, 3, 5, 15, 0)
    heads = [{"till_id": "1", "last_at": now, "refusal": ""},
             {"till_id": "2", "last_at": datetime.datetime(2026, 3, 5, 14, 2), "refusal": "Two tills claim id 2."}]
    lines = sync_lines(heads, now, 15)
    assert lines == ["同步（门店服务器）", "  收银台 2 已 58 分钟没有同步（最后 03-05 14:02）",
                     "  收银台 1 最后同步 03-05 15:00", "  收银台 2 被服务器拒收：Two tills claim id 2."]
    assert sync_lines(heads[:1], now, 15) == ["同步（门店服务器）", "  所有收银台都在 15 分钟内同步过",
                                              "  收银台 1 最后同步 03-05 15:00"]


def test_the_owners_view_says_a_refusal_by_its_code_in_the_ui_language_else_the_stored_sentence():
    """The server stores a refusal's code and values beside its English sentence; the owner's view says it
    with the till strip's words (tui.services.sync.coded, the mapping ``shown`` uses), the sentence otherwise."""
    from store.errors import BatchRefused
    from tui.screens.owner import sync_lines

    now = datetime.datetime(2026, 3, 5, 15, 0)
    sentence = "Till 2's record 7 does not match its hash: it was changed after it was sealed."
    heads = [{"till_id": "2", "last_at": now, "refusal": sentence, "refusal_code": "sync_bad_hash",
              "refusal_values": {"till": "2", "seq": 7}},
             {"till_id": "3", "last_at": now, "refusal": "A refusal of a newer server.", "refusal_code": "sync_new",
              "refusal_values": {}},
             {"till_id": "4", "last_at": now, "refusal": "Till 4's records are missing before record 9.",
              "refusal_code": "sync_gap", "refusal_values": {"till": "4", "seq": 9}},  # no head: its words need it
             {"till_id": "5", "last_at": now, "refusal": "Till 5's batch is not in sequence order."}]  # an old server
    lines = sync_lines(heads, now, 15)
    assert lines[-4:] == ["  收银台 2 被服务器拒收：收银台 2 的第 7 条记录和它的哈希对不上：封存后被改过",
                          "  收银台 3 被服务器拒收：A refusal of a newer server.",
                          "  收银台 4 被服务器拒收：Till 4's records are missing before record 9.",
                          "  收银台 5 被服务器拒收：Till 5's batch is not in sequence order."]
    strip = shown(BatchRefused(sentence, "sync_bad_hash", till="2", seq=7))
    assert lines[-4].endswith(strip)  # the same words as the till's own strip
    i18n.set_language("en")
    assert sync_lines(heads[:1], now, 15)[-1] == "  till 2 is refused by the server: " + sentence


def test_the_owners_view_says_what_each_till_still_had_to_send_as_of_its_last_batch():
    from tui.screens.owner import sync_lines

    now = datetime.datetime(2026, 3, 5, 15, 0)
    heads = [{"till_id": "1", "last_at": now, "refusal": "", "to_send": 0},
             {"till_id": "2", "last_at": datetime.datetime(2026, 3, 5, 14, 2), "refusal": "", "to_send": 37},
             {"till_id": "3", "last_at": None, "refusal": "", "to_send": None}]
    assert sync_lines(heads, now, 15) == [
        "同步（门店服务器）", "  收银台 3 还没有同步过",
        "  收银台 2 已 58 分钟没有同步（最后 03-05 14:02） · 待发送 37 条（截至它最后一批）",
        "  收银台 1 最后同步 03-05 15:00 · 待发送 0 条（截至它最后一批）"]
    i18n.set_language("en")
    assert sync_lines(heads[:1], now, 15)[-1] == "  till 1 last synced 03-05 15:00 · 0 to send (as of its last batch)"


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
