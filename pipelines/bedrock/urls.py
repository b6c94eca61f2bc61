"""Which URLs may carry a secret: the one rule for the API's URL (the key rides in its
`Authorization` header) and the alerts webhook (its path is the secret).

A secret goes over `https://`, or over plain `http://` only to this machine (a loopback
host: `localhost`, any `127.x.x.x`, `::1`), where nothing on the wire can read it: the
local simulator and test receivers.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

LOOPBACK = "plain http only to a loopback host: localhost, 127.x.x.x, ::1"
"""The exception to https, as messages say it."""


def _host(url: str) -> str:
    try:
        return (urlsplit(url.strip()).hostname or "").rstrip(".").lower()
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return ""


def is_loopback(url: str) -> bool:
    """True when `url`'s host is this machine: `localhost`, any 127.0.0.0/8 address or
    `::1` (also written as an IPv4-mapped IPv6 address)."""
    host = _host(url)
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or bool(mapped and mapped.is_loopback)


def carries_secrets_safely(url: str) -> bool:
    """True for an `https://` URL with a host, or an `http://` one to a loopback host."""
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return False
    if not _host(url):
        return False
    return scheme == "https" or (scheme == "http" and is_loopback(url))
