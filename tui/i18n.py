"""Every string the till shows, in Chinese and English.

Widgets never hold text of their own: they ask ``t("key", **values)``. The
catalogues must have the same keys (a test walks them). ``auto`` picks
English on the Linux console, which cannot draw CJK, else follows the locale.
"""
from __future__ import annotations

import locale
import os
from typing import Dict, Optional

LANGUAGES = ("zh", "en")

ZH: Dict[str, str] = {
    "app.title": "超赢收银",
    "app.subtitle": "收银台 {till}",
    "app.demo": "演示",
    # sale screen
    "sale.entry_placeholder": "扫码或输入条码 / PLU，3*条码 = 3 件",
    "sale.col.no": "#",
    "sale.col.name": "商品",
    "sale.col.qty": "数量",
    "sale.col.price": "单价",
    "sale.col.amount": "金额",
    "sale.total": "合计 ￥",
    "sale.items": "{count} 件",
    "sale.empty": "请扫码开始新的一单",
    "sale.unknown_code": "查无此码：{code}",
    "sale.bad_quantity": "数量不对：{text}",
    "sale.added": "已加入：{name}",
    "sale.voided": "已删除：{name}",
    "sale.nothing_to_void": "没有可删除的商品",
    "sale.basket_empty": "购物篮是空的，先扫码",
    "sale.payment_in_progress": "正在付款，按 F12 继续付款",
    "sale.waiting_receipt": "上一张小票还在打印，请稍候",
    "sale.db_error": "数据库出错：{error}",
    # success panel
    "done.title": "收款成功",
    "done.amount": "实收 ￥{amount}",
    "done.change": "找零 ￥",
    "done.receipt_no": "小票号 {number}",
    "done.next": "扫码开始下一单",
    "status.pending": "等待打印",
    "status.printing": "正在打印…",
    "status.printed": "已打印",
    "status.failed": "未打印：{reason}",
    "status.handwritten": "已开手写小票",
    "status.e_receipt": "已给电子小票",
    "status.declined": "顾客不要小票",
    "status.near_end": "打印纸快用完了，请准备换纸",
    # tender
    "tender.title": "付款",
    "tender.total": "应收",
    "tender.paid": "已付",
    "tender.remaining": "还差",
    "tender.change": "找零",
    "tender.method": "付款方式：{method}",
    "tender.amount_placeholder": "金额（直接回车 = 付清）",
    "tender.reference_placeholder": "参考号（可不填）",
    "tender.card_reference_placeholder": "卡号后四位或参考号",
    "tender.reference_needed": "请填银行卡后四位或参考号",
    "tender.bad_amount": "金额不对：{text}",
    "tender.too_much": "{method}不能多付，最多 ￥{amount}",
    "tender.failed_recorded": "{method} ￥{amount} 付款失败，已记录，请换一种方式",
    "tender.payments": "付款记录",
    "tender.payment_ok": "{method}  ￥{amount} {reference}",
    "tender.payment_failed": "{method}  ￥{amount} {reference}  失败",
    "tender.none_yet": "还没有付款",
    "tender.commit_failed": "保存失败，请重试：{error}",
    "method.cash": "现金",
    "method.card": "银行卡",
    "method.wechat": "微信",
    "method.alipay": "支付宝",
    # banner
    "banner.title": "小票没有打印出来",
    "banner.receipt_no": "小票号",
    "banner.total": "金额",
    "banner.reason": "原因",
    "banner.printing": "正在打印，请稍候…",
    "banner.more": "还有 {count} 张小票待处理",
    "banner.keys": "请选择：",
    "banner.no_backup": "没有设置备用打印机",
    "banner.busy": "正在打印，请稍候",
    "reason.interrupted": "打印时收银机被关掉了",
    "reason.pending": "小票还没有打印",
    "reason.unknown": "打印机没有确认",
    # handwritten
    "hand.title": "手写小票：请照抄下面的内容",
    "hand.write_number": "请在手写小票上写上小票号：{number}",
    "hand.recorded": "已记录：小票 {number} 开了手写小票",
    # qr
    "qr.title": "电子小票：请顾客扫码保存",
    "qr.recorded": "已记录：小票 {number} 给了电子小票",
    "qr.too_big": "终端太小，二维码显示不全，请放大窗口",
    "qr.shop": "店",
    "qr.number": "票号",
    "qr.time": "时间",
    "qr.total": "合计",
    "qr.paid": "付款",
    "qr.change": "找零",
    # decline
    "decline.question": "顾客确定不要小票 {number} 吗？",
    "decline.yes": "Y 确定",
    "decline.no": "N 返回",
    "decline.recorded": "已记录：小票 {number} 顾客不要小票",
    # help
    "help.title": "按键说明",
    "help.screen.app": "任何时候",
    "help.screen.sale": "收银",
    "help.screen.tender": "付款",
    "help.screen.banner": "小票未打印",
    "help.screen.view": "查看",
    "help.screen.confirm": "确认",
    "help.entry": "输入框：扫码或输入条码/PLU 后回车；3*条码 = 数量 3；Esc 清空",
    # demo
    "demo.fault.title": "演示：打印机故障",
    "demo.fault.ok": "正常",
    "demo.fault.paper_out": "缺纸",
    "demo.fault.near_end": "纸快用完",
    "demo.fault.cover_open": "上盖打开",
    "demo.fault.offline": "离线",
    "demo.fault.silent": "不回应",
    "demo.fault.no_confirm": "打印但不确认",
    "demo.fault.set": "虚拟打印机：{state}",
    "paper.title": "打印出来的小票：{name}",
    "paper.none": "还没有打印过小票",
    "paper.folder": "小票纸目录：{path}",
    # keys
    "key.help": "帮助",
    "key.quit": "退出",
    "key.tender": "付款",
    "key.search": "查找",
    "key.void": "删除",
    "key.clear": "清空",
    "key.up": "上一行",
    "key.down": "下一行",
    "key.paper": "看小票",
    "key.faults": "故障",
    "key.cash": "现金",
    "key.card": "银行卡",
    "key.wechat": "微信",
    "key.alipay": "支付宝",
    "key.pay_failed": "付款失败",
    "key.back": "返回",
    "key.reprint": "重打",
    "key.handwritten": "手写小票",
    "key.qr": "电子小票",
    "key.declined": "顾客不要",
    "key.backup": "备用打印机",
    "key.close": "关闭",
    "key.yes": "确定",
    "key.no": "返回",
    "key.prev": "上一张",
    "key.next": "下一张",
    "key.confirm": "确认",
    "key.enter_pay": "回车 = 收款",
}

EN: Dict[str, str] = {
    "app.title": "Chaoying",
    "app.subtitle": "Till {till}",
    "app.demo": "demo",
    "sale.entry_placeholder": "Scan or type barcode / PLU; 3*code = 3 pieces",
    "sale.col.no": "#",
    "sale.col.name": "Item",
    "sale.col.qty": "Qty",
    "sale.col.price": "Price",
    "sale.col.amount": "Amount",
    "sale.total": "Total ￥",
    "sale.items": "{count} items",
    "sale.empty": "Scan an item to start a new sale",
    "sale.unknown_code": "Unknown code: {code}",
    "sale.bad_quantity": "Bad quantity: {text}",
    "sale.added": "Added: {name}",
    "sale.voided": "Voided: {name}",
    "sale.nothing_to_void": "No line to void",
    "sale.basket_empty": "The basket is empty; scan an item first",
    "sale.payment_in_progress": "Payment in progress: F12 to continue",
    "sale.waiting_receipt": "The last receipt is still printing, please wait",
    "sale.db_error": "Database error: {error}",
    "done.title": "Paid",
    "done.amount": "Received ￥{amount}",
    "done.change": "Change ￥",
    "done.receipt_no": "Receipt {number}",
    "done.next": "Scan to start the next sale",
    "status.pending": "waiting to print",
    "status.printing": "printing...",
    "status.printed": "printed",
    "status.failed": "not printed: {reason}",
    "status.handwritten": "handwritten receipt given",
    "status.e_receipt": "e-receipt given",
    "status.declined": "customer declined the receipt",
    "status.near_end": "Paper is running out: have a new roll ready",
    "tender.title": "Payment",
    "tender.total": "Total",
    "tender.paid": "Paid",
    "tender.remaining": "To pay",
    "tender.change": "Change",
    "tender.method": "Method: {method}",
    "tender.amount_placeholder": "Amount (Enter alone = exact)",
    "tender.reference_placeholder": "Reference (optional)",
    "tender.card_reference_placeholder": "Card last 4 digits or reference",
    "tender.reference_needed": "Enter the card's last digits or a reference",
    "tender.bad_amount": "Bad amount: {text}",
    "tender.too_much": "{method} cannot pay more than ￥{amount}",
    "tender.failed_recorded": "{method} ￥{amount} failed and was recorded; choose another method",
    "tender.payments": "Payments",
    "tender.payment_ok": "{method}  ￥{amount} {reference}",
    "tender.payment_failed": "{method}  ￥{amount} {reference}  FAILED",
    "tender.none_yet": "No payment yet",
    "tender.commit_failed": "Could not save the sale, try again: {error}",
    "method.cash": "Cash",
    "method.card": "Card",
    "method.wechat": "WeChat",
    "method.alipay": "Alipay",
    "banner.title": "The receipt did not print",
    "banner.receipt_no": "Receipt",
    "banner.total": "Total",
    "banner.reason": "Reason",
    "banner.printing": "Printing, please wait...",
    "banner.more": "{count} more receipts to resolve",
    "banner.keys": "Choose:",
    "banner.no_backup": "No backup printer is configured",
    "banner.busy": "Printing, please wait",
    "reason.interrupted": "the till was closed while printing",
    "reason.pending": "the receipt has not been printed yet",
    "reason.unknown": "the printer did not confirm",
    "hand.title": "Handwritten receipt: copy this",
    "hand.write_number": "Write the receipt number on it: {number}",
    "hand.recorded": "Recorded: handwritten receipt for {number}",
    "qr.title": "E-receipt: the customer scans this",
    "qr.recorded": "Recorded: e-receipt for {number}",
    "qr.too_big": "The terminal is too small for the whole QR code; enlarge it",
    "qr.shop": "Shop",
    "qr.number": "No",
    "qr.time": "Time",
    "qr.total": "Total",
    "qr.paid": "Paid",
    "qr.change": "Change",
    "decline.question": "Customer declines receipt {number}?",
    "decline.yes": "Y yes",
    "decline.no": "N back",
    "decline.recorded": "Recorded: customer declined receipt {number}",
    "help.title": "Keys",
    "help.screen.app": "Anywhere",
    "help.screen.sale": "Sale",
    "help.screen.tender": "Payment",
    "help.screen.banner": "Receipt not printed",
    "help.screen.view": "Viewers",
    "help.screen.confirm": "Confirm",
    "help.entry": "Entry: scan or type a barcode/PLU then Enter; 3*code = qty 3; Esc clears",
    "demo.fault.title": "Demo: printer faults",
    "demo.fault.ok": "OK",
    "demo.fault.paper_out": "Paper out",
    "demo.fault.near_end": "Paper near end",
    "demo.fault.cover_open": "Cover open",
    "demo.fault.offline": "Offline",
    "demo.fault.silent": "Silent",
    "demo.fault.no_confirm": "Prints, never confirms",
    "demo.fault.set": "Virtual printer: {state}",
    "paper.title": "Printed paper: {name}",
    "paper.none": "Nothing printed yet",
    "paper.folder": "Paper folder: {path}",
    "key.help": "Help",
    "key.quit": "Quit",
    "key.tender": "Pay",
    "key.search": "Find",
    "key.void": "Void",
    "key.clear": "Clear",
    "key.up": "Line up",
    "key.down": "Line down",
    "key.paper": "Paper",
    "key.faults": "Faults",
    "key.cash": "Cash",
    "key.card": "Card",
    "key.wechat": "WeChat",
    "key.alipay": "Alipay",
    "key.pay_failed": "Failed",
    "key.back": "Back",
    "key.reprint": "Reprint",
    "key.handwritten": "Handwritten",
    "key.qr": "E-receipt",
    "key.declined": "Declined",
    "key.backup": "Backup printer",
    "key.close": "Close",
    "key.yes": "Yes",
    "key.no": "Back",
    "key.prev": "Previous",
    "key.next": "Next",
    "key.confirm": "Confirm",
    "key.enter_pay": "Enter = pay",
}

CATALOGUES: Dict[str, Dict[str, str]] = {"zh": ZH, "en": EN}

_current = "zh"


def resolve_language(setting: str, environ: Optional[dict] = None) -> str:
    """zh or en from the setting; auto -> English on the Linux console, else the locale."""
    if setting in LANGUAGES:
        return setting
    env = os.environ if environ is None else environ
    if env.get("TERM", "") == "linux":
        return "en"
    for name in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        value = env.get(name, "")
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    try:
        code = locale.getlocale()[0] or ""
    except ValueError:
        code = ""
    return "zh" if code.lower().startswith("zh") else "en"


def set_language(language: str) -> None:
    """Choose the catalogue every later t() call reads."""
    global _current
    if language not in CATALOGUES:
        raise ValueError(f"unknown language {language!r}")
    _current = language


def language() -> str:
    return _current


def t(key: str, **values: object) -> str:
    """The text for key in the current language, with {placeholders} filled."""
    text = CATALOGUES[_current].get(key)
    if text is None:
        text = EN.get(key, key)
    return text.format(**values) if values else text
