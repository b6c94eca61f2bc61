"""Which URLs may carry a secret: https anywhere, plain http only to this machine."""

from __future__ import annotations

import pytest

from pipelines.bedrock.urls import carries_secrets_safely, is_loopback


@pytest.mark.parametrize(("url", "loopback"), [
    ("http://localhost:8080/x", True),
    ("http://LOCALHOST./x", True),
    ("http://127.0.0.1:9/x", True),
    ("http://127.45.6.7/x", True),  # all of 127.0.0.0/8
    ("http://[::1]:8080/x", True),
    ("http://[::ffff:127.0.0.1]/x", True),
    ("http://128.0.0.1/x", False),
    ("http://10.0.0.7/x", False),
    ("http://[::2]/x", False),
    ("http://localhost.example.com/x", False),
    ("http://127.0.0.1.example.com/x", False),
    ("http://example.com/?next=http://127.0.0.1/", False),
    ("http://user@127.0.0.1:9/x", True),
    ("http://127.0.0.1@example.com/x", False),  # the host is example.com
    ("http://[::1/x", False),  # not a URL
    ("", False),
])
def test_loopback_hosts(url, loopback):
    assert is_loopback(url) is loopback


@pytest.mark.parametrize(("url", "safe"), [
    ("https://hooks.slack.com/services/T/B/x", True),
    (" https://hooks.slack.com/services/T/B/x\n", True),  # judged as it will be used
    ("HTTPS://api.bedrock.cv", True),
    ("http://api.bedrock.cv", False),
    ("http://127.0.0.1:8000", True),
    ("http://localhost:8000", True),
    ("ftp://127.0.0.1/x", False),
    ("https:///no-host", False),
    ("hooks.slack.com/services/T/B/x", False),  # no scheme
])
def test_secrets_go_over_https_or_to_this_machine(url, safe):
    assert carries_secrets_safely(url) is safe
