"""The one address rule (shared/urlsafety.py), range by range, for the three callers: a webhook, an Apprise URL
that names a host, a source. Each non-global address is refused with what it is and the setting that allows it,
and accepted when MINUTES_ALLOW_PRIVATE_URLS allows it; global addresses are accepted either way."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

import pytest

from services.alerts.urls import check_apprise_url, check_webhook_url
from services.ingest.sources.poller import check_source_url
from shared.urlsafety import UrlRefused, checked_addresses, why_not_global

# (address, words of the reason): every range the issue names, and the rest of the special-purpose registries.
NOT_GLOBAL = [
    ("0.0.0.0", "this-network"),
    ("10.1.2.3", "private (10.0.0.0/8)"),
    ("100.64.0.1", "shared address space"),
    ("100.100.100.200", "shared address space (carrier-grade NAT) (100.64.0.0/10)"),
    ("127.0.0.1", "loopback (127.0.0.0/8)"),
    ("169.254.169.254", "link-local (169.254.0.0/16)"),
    ("172.16.5.4", "private (172.16.0.0/12)"),
    ("192.0.0.9", "IETF protocol assignments (192.0.0.0/24)"),
    ("192.0.0.10", "IETF protocol assignments (192.0.0.0/24)"),
    ("192.0.0.170", "IETF protocol assignments"),
    ("192.0.2.1", "documentation"),
    ("192.88.99.1", "6to4 relay anycast (192.88.99.0/24)"),
    ("192.88.99.254", "6to4 relay anycast"),
    ("192.168.1.1", "private (192.168.0.0/16)"),
    ("198.18.0.1", "benchmarking"),
    ("198.51.100.7", "documentation"),
    ("203.0.113.7", "documentation"),
    ("224.0.0.251", "multicast"),
    ("239.255.255.250", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "broadcast"),
    ("::", "unspecified"),
    ("::1", "loopback (::1/128)"),
    ("::7f00:1", "IPv4-compatible"),
    ("::ffff:127.0.0.1", "IPv4-mapped 127.0.0.1, loopback"),
    ("::ffff:169.254.169.254", "IPv4-mapped 169.254.169.254, link-local"),
    ("::ffff:100.100.100.200", "IPv4-mapped 100.100.100.200, shared address space"),
    ("64:ff9b::7f00:1", "NAT64 (64:ff9b::/96) 127.0.0.1, loopback"),
    ("64:ff9b::a9fe:a9fe", "NAT64 (64:ff9b::/96) 169.254.169.254, link-local"),
    ("64:ff9b::a00:1", "NAT64 (64:ff9b::/96) 10.0.0.1, private"),
    ("64:ff9b:1::808:808", "local-use NAT64"),
    ("100::1", "discard-only"),
    # Teredo: server 65.54.227.120, client 127.0.0.1 stored inverted (0x80fffffe).
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", "Teredo (2001::/32) wrapping 127.0.0.1"),
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo (2001::/32) wrapping 192.0.2.45"),
    ("2001:2::1", "IETF protocol assignments (2001::/23)"),
    ("2001:db8::1", "documentation (2001:db8::/32)"),
    ("2002:7f00:1::", "6to4 (2002::/16) wrapping 127.0.0.1"),
    ("2002:a9fe:a9fe::1", "6to4 (2002::/16) wrapping 169.254.169.254"),
    ("2002:c0a8:101::", "6to4 (2002::/16) wrapping 192.168.1.1"),
    ("2002:5db8:d822::", "6to4 (2002::/16) wrapping 93.184.216.34"),  # refused whatever it wraps
    ("3fff::1", "documentation (3fff::/20)"),
    ("fc00::1", "unique local"),
    ("fd12:3456::1", "unique local"),
    ("fe80::1", "link-local (fe80::/10)"),
    ("fec0::1", "site-local (deprecated) (fec0::/10)"),
    ("feff::1", "site-local"),
    ("ff02::1", "multicast"),
    ("ff0e::1", "multicast"),
    ("4000::1", "outside the global unicast range (2000::/3)"),
    ("::1:0:0:1", "outside the global unicast range"),
]
GLOBAL = ["93.184.216.34", "8.8.8.8", "192.0.1.1", "2606:4700::1111", "::ffff:93.184.216.34", "64:ff9b::5db8:d822"]


class Dns:
    """One name with the answer the test gives it."""

    def __init__(self, address: str) -> None:
        self.address = address

    async def __call__(self, host: str, port: int) -> Sequence[str]:
        if host != "target.test":
            raise OSError(f"no such name {host}")
        return [self.address]


Check = Callable[[str, bool, Dns], Awaitable[None]]


async def _webhook(address: str, allow: bool, dns: Dns) -> None:
    await check_webhook_url("https://target.test/hook", allow_private=allow, resolver=dns)


async def _source(address: str, allow: bool, dns: Dns) -> None:
    await check_source_url("https://target.test/portal", allow_private=allow, resolver=dns)


def _apprise(scheme: str) -> Check:
    async def check(address: str, allow: bool, dns: Dns) -> None:
        await check_apprise_url(f"{scheme}://target.test:8080/notify", allow_private=allow, resolver=dns)

    return check


CALLERS = {
    "webhook": _webhook,
    "source": _source,
    "apprise json://": _apprise("json"),
    "apprise form://": _apprise("form"),
    "apprise xmls://": _apprise("xmls"),
    "apprise gotify://": _apprise("gotify"),
}


@pytest.mark.parametrize(("address", "reason"), NOT_GLOBAL)
def test_every_special_range_is_named(address: str, reason: str) -> None:
    why = why_not_global(address)
    assert why is not None and reason in why


@pytest.mark.parametrize("address", GLOBAL)
def test_global_addresses_pass(address: str) -> None:
    assert why_not_global(address) is None


@pytest.mark.parametrize("caller", sorted(CALLERS))
@pytest.mark.parametrize(("address", "reason"), NOT_GLOBAL)
async def test_each_caller_refuses_each_range_unless_allowed(caller: str, address: str, reason: str) -> None:
    check, dns = CALLERS[caller], Dns(address)
    with pytest.raises(UrlRefused) as refused:
        await check(address, False, dns)
    text = str(refused.value)
    assert f"'target.test' resolves to {address}" in text, text
    assert reason in text and "MINUTES_ALLOW_PRIVATE_URLS=true" in text
    await check(address, True, dns)  # allowed: the same URL is taken


@pytest.mark.parametrize("caller", sorted(CALLERS))
@pytest.mark.parametrize("address", GLOBAL)
async def test_each_caller_takes_global_addresses(caller: str, address: str) -> None:
    await CALLERS[caller](address, False, Dns(address))


@pytest.mark.parametrize(
    "url",
    [
        "json://127.0.0.1:9/hook",
        "form://[::1]:80/x",
        "xml://169.254.169.254/latest/meta-data",
        "json://100.100.100.200/",
        "jsons://[2002:7f00:1::]/",
        "json://[fec0::1]/",
        "mailto://127.0.0.1:2525?mode=insecure&from=a@minutes.test&to=b@minutes.test",
        "mailto://user:pw@93.184.216.34?smtp=10.0.0.3&from=a@minutes.test&to=b@minutes.test",
        "hassio://192.168.1.5/accesstoken",
        "ntfy://10.0.0.1/topic",
        "apprise://[::ffff:127.0.0.1]/key",
    ],
)
async def test_apprise_literal_hosts_are_checked(url: str) -> None:
    with pytest.raises(UrlRefused, match="MINUTES_ALLOW_PRIVATE_URLS"):
        await check_apprise_url(url, allow_private=False)
    await check_apprise_url(url, allow_private=True)


async def test_apprise_services_with_a_fixed_host_are_not_looked_up() -> None:
    dns = Dns("127.0.0.1")  # any lookup of these tokens would fail: none is made
    await check_apprise_url("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ/#general", allow_private=False,
                            resolver=dns)
    await check_apprise_url("tgram://123456789:abcdefg_hijklmnop/12315544/", allow_private=False, resolver=dns)
    await check_apprise_url("ntfy://mytopic", allow_private=False, resolver=dns)  # ntfy.sh, the cloud service
    with pytest.raises(UrlRefused, match="does not resolve"):  # a host slot that resolves nowhere
        await check_apprise_url("json://nowhere.test/", allow_private=False, resolver=dns)
    with pytest.raises(UrlRefused, match="does not understand"):
        await check_apprise_url("nosuchscheme://x", allow_private=True)
    with pytest.raises(UrlRefused, match="thread of their own"):
        await check_apprise_url("xmpps://user:pw@example.org", allow_private=False)


async def test_one_inward_address_among_global_ones_refuses_the_name() -> None:
    async def mixed(host: str, port: int) -> Sequence[str]:
        return ["93.184.215.14", "10.0.0.7"]

    with pytest.raises(UrlRefused, match=r"resolves to 10\.0\.0\.7, private"):
        await checked_addresses("mixed.test", 443, allow_private=False, resolver=mixed)
    allowed = await checked_addresses("mixed.test", 443, allow_private=True, resolver=mixed)
    assert allowed == ["93.184.215.14", "10.0.0.7"]


def test_one_setting_and_the_old_name_is_refused_with_the_new_one(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    from minutes_cli.errors import explain
    from shared.settings import Settings

    monkeypatch.setenv("MINUTES_ALLOW_PRIVATE_URLS", "true")
    assert Settings(_env_file=None).allow_private_urls
    monkeypatch.setenv("MINUTES_WEBHOOK_ALLOW_PRIVATE", "true")
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None)
    shown = explain(refused.value)
    assert shown is not None
    assert shown.message.startswith("bad setting MINUTES_WEBHOOK_ALLOW_PRIVATE: ")
    assert "replaced by MINUTES_ALLOW_PRIVATE_URLS" in shown.message
