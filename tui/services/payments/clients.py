"""The provider clients a till's settings set up, built on first use (the till starts without loading them).

``providers_from(settings)`` says at once which providers are offered (a
section with its URL set) and builds each client the first time the desk
asks for it, on the desk's thread: importing the wechat or alipay module,
reading key files, loading certificates never delays the start or the UI.
"""
from __future__ import annotations

import dataclasses
import threading
from typing import TYPE_CHECKING, Any, Callable, Dict

if TYPE_CHECKING:  # the provider module loads with the desk, after the till's first frame
    from tui.services.payments.provider import Provider


class Providers:
    """The providers offered on this till; ``client(name)`` builds (once) and returns one."""

    def __init__(self, builders: Dict[str, Callable[[], Provider]]) -> None:
        self._builders = dict(builders)
        self._built: Dict[str, Provider] = {}
        self._lock = threading.Lock()

    def offers(self, name: str) -> bool:
        return name in self._builders

    def client(self, name: str) -> Provider:
        """The client of ``name``; ProviderError when it is not offered or cannot be built (says which setting)."""
        with self._lock:
            if name not in self._built:
                if name not in self._builders:
                    from tui.services.payments.provider import ProviderError

                    raise ProviderError(f"{name} is not set up on this till.")
                self._built[name] = self._builders[name]()
            return self._built[name]


def providers_from(settings: Any) -> Providers:
    """The providers ``[payments.wechat]`` and ``[payments.alipay]`` set up (an empty URL: not offered)."""
    payments = settings.payments
    builders: Dict[str, Callable[[], Provider]] = {}
    if payments.wechat.set_up:
        builders["wechat"] = lambda: _wechat(payments.wechat)
    if payments.alipay.set_up:
        builders["alipay"] = lambda: _alipay(payments.alipay)
    return Providers(builders)


def _wechat(section: Any) -> Provider:
    from tui.services.payments.wechat import WeChatPay

    values = dataclasses.asdict(section)
    values["timeout"] = section.timeout_seconds
    return WeChatPay.from_settings(values)


def _alipay(section: Any) -> Provider:
    from tui.services.payments.alipay import AlipayClient

    return AlipayClient.from_settings(dataclasses.asdict(section))


__all__ = ["Providers", "providers_from"]
