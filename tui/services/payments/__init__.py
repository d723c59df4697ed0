"""Mobile payments the till charges itself: the customer's payment code (付款码), WeChat Pay and Alipay.

- ``provider``: the one interface every provider client speaks (pay, query, cancel, refund, refund query),
  the answers it returns, and each provider's schedule (how often to ask, when to give up and cancel).
- ``codes``: which provider a scanned payment code belongs to, by its form.
- ``wechat`` / ``alipay``: the real clients (WeChat Pay APIv2 付款码支付; Alipay ``alipay.trade.pay``
  scene ``bar_code``).
- ``simulator``: a local server speaking both protocols, signatures checked, for the demo and the tests.

Plain Python, no Textual: network work runs on a worker thread, never the UI thread.
"""
