"""Which proxy a request goes through: `proxy=`, else the environment's, minus `NO_PROXY`.

`resolve_proxies(proxy, trust_env=..., environ=...)` reads it all once, when the client
is made; the transports then ask `ProxyRoutes.route(scheme, host, port)` per request:

- `proxy=` (a URL): every request goes through it; the environment is not read (httpx's
  rule);
- else, with `trust_env` (the default, as httpx): `https_proxy` / `HTTPS_PROXY` for https
  URLs, `http_proxy` / `HTTP_PROXY` for http ones, `all_proxy` / `ALL_PROXY` for either
  when its own is unset (the lowercase name wins when both are set; `HTTP_PROXY` is
  ignored when `REQUEST_METHOD` is set, since a CGI request's `Proxy:` header lands there:
  "httpoxy"), except for the hosts `no_proxy` / `NO_PROXY` names, and loopback hosts
  (a proxy's loopback is not ours; Go's net/http skips them too).

`NO_PROXY` is a comma-separated list: `*` (every host); a host name, matching itself and
its subdomains (a leading `.` or `*.` changes nothing, as in curl); an IP address (`[v6]`
too); either with `:port` (that port only); or a CIDR block such as `10.0.0.0/8`, matched
against IP-literal hosts only (no DNS lookup). Entries that are none of these are ignored.

A proxy URL is `http://` or `https://` (TLS to the proxy itself), with `user:password@`
for Basic proxy authorization (percent-decoded). An environment value without a scheme
is read as `http://` (as curl, requests and httpx read it); `proxy=` must have one.
SOCKS is not supported. Errors name the argument or the variable, never the credentials.
"""

from __future__ import annotations

import base64
import ipaddress
from collections.abc import Mapping
from typing import Final

import attrs
import httpx

from dyte_async._net import is_loopback
from dyte_async._redact import redact_text
from dyte_async.errors import ConfigurationError

__all__ = ["NoProxy", "Proxy", "ProxyRoutes", "check_clear_text", "parse_proxy", "resolve_proxies"]

_DEFAULT_PORTS: Final = {"http": 80, "https": 443}
_SOCKS: Final = frozenset({"socks4", "socks4a", "socks5", "socks5h", "socks"})
#: Routes remembered per transport (a client talks to one or two origins).
_CACHE_SIZE: Final = 256

_IP = ipaddress.IPv4Address | ipaddress.IPv6Address
_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@attrs.frozen(repr=False)
class Proxy:
    """One proxy: where it is, and its credentials (never shown by `repr`).

    Attributes:
        scheme: "http" or "https" (TLS to the proxy).
        host: its host name or IP address (IPv6 without brackets).
        port: its port.
        username: the Basic proxy authorization's user ("" for none).
        password: its password.
        source: what configured it (`proxy=`, `HTTPS_PROXY`, ...), for messages.
    """

    scheme: str
    host: str
    port: int
    username: str = ""
    password: str = ""
    source: str = "proxy="

    @property
    def url(self) -> str:
        """The proxy's URL without credentials, e.g. `http://proxy.example:3128`."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    @property
    def auth(self) -> tuple[str, str] | None:
        """`(username, password)` for Basic proxy authorization, or None."""
        return (self.username, self.password) if self.username or self.password else None

    @property
    def authorization(self) -> str | None:
        """The `Proxy-Authorization` header's value, or None."""
        if self.auth is None:
            return None
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode("ascii")
        return f"Basic {token}"

    def secrets(self) -> tuple[str, ...]:
        """The strings to mask in any text: the password, `user:password`, the header."""
        header = self.authorization
        if header is None:
            return ()
        found = {header, header.partition(" ")[2], f"{self.username}:{self.password}"}
        if len(self.password) >= 4:
            found.add(self.password)
        return tuple(sorted(found, key=len, reverse=True))

    def __repr__(self) -> str:
        auth = ", auth=<redacted>" if self.auth else ""
        return f"Proxy({self.url!r}, source={self.source!r}{auth})"


@attrs.frozen
class _Entry:
    """One `NO_PROXY` entry: a host name (with subdomains), an IP, or a network."""

    name: str | None = None
    ip: _IP | None = None
    network: _Network | None = None
    port: int | None = None

    def matches(self, host: str, ip: _IP | None, port: int) -> bool:
        if self.port is not None and self.port != port:
            return False
        if self.name is not None:
            return host == self.name or host.endswith("." + self.name)
        if ip is None:
            return False
        if self.ip is not None:
            return ip == self.ip
        return (
            self.network is not None and ip.version == self.network.version and ip in self.network
        )


@attrs.frozen
class NoProxy:
    """The hosts a `NO_PROXY` value sends direct (module docstring).

    Attributes:
        everything: the value holds `*`.
        entries: the entries understood, in order.
    """

    everything: bool = False
    entries: tuple[_Entry, ...] = ()

    @classmethod
    def parse(cls, text: str) -> NoProxy:
        """The entries of a `NO_PROXY` value (comma- or space-separated).

        Args:
            text: the value.
        """
        entries: list[_Entry] = []
        for raw in text.replace(" ", ",").split(","):
            item = raw.strip().lower()
            if item == "*":
                return cls(everything=True)
            entry = _entry(item) if item else None
            if entry is not None:
                entries.append(entry)
        return cls(entries=tuple(entries))

    def matches(self, host: str, port: int) -> bool:
        """Whether a request to `host` (lowercase, IPv6 without brackets) on `port` goes
        direct."""
        if self.everything:
            return True
        if not self.entries:
            return False
        ip = _ip(host)
        return any(entry.matches(host, ip, port) for entry in self.entries)


def _ip(text: str) -> _IP | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _entry(item: str) -> _Entry | None:
    """One entry, or None when it is none of the forms understood."""
    if "/" in item:
        try:
            return _Entry(network=ipaddress.ip_network(item, strict=False))
        except ValueError:
            return None
    port: int | None = None
    host = item
    if item.startswith("["):  # [v6] or [v6]:port
        host, _, rest = item[1:].partition("]")
        if rest:
            if not rest.startswith(":") or not rest[1:].isdigit():
                return None
            port = int(rest[1:])
    elif item.count(":") == 1:  # host:port (a bare IPv6 address has several colons)
        host, _, digits = item.partition(":")
        if not digits.isdigit():
            return None
        port = int(digits)
    ip = _ip(host)
    if ip is not None:
        return _Entry(ip=ip, port=port)
    name = host.lstrip("*").lstrip(".").rstrip(".")
    if not name or "*" in name or ":" in name:
        return None
    return _Entry(name=name, port=port)


@attrs.define(repr=False)
class ProxyRoutes:
    """Which proxy, if any, each request goes through.

    Attributes:
        proxies: the proxy per URL scheme ("http", "https").
        bypass: the hosts that go direct (`NO_PROXY`; empty for `proxy=`).
        from_env: the proxies came from the environment (loopback hosts then go direct).
    """

    proxies: Mapping[str, Proxy]
    bypass: NoProxy = NoProxy()
    from_env: bool = False
    _cache: dict[tuple[str, str, int | None], Proxy | None] = attrs.field(
        factory=dict, init=False, eq=False
    )

    def route(self, scheme: str, host: str, port: int | None = None) -> Proxy | None:
        """The proxy for a request to `scheme://host:port`, or None to go direct.

        Args:
            scheme: "http" or "https".
            host: the host (IPv6 without brackets).
            port: the port (None: the scheme's default).
        """
        key = (scheme, host, port)
        try:
            return self._cache[key]
        except KeyError:
            pass
        proxy = self._route(scheme, host.lower().rstrip("."), port)
        if len(self._cache) >= _CACHE_SIZE:
            self._cache.clear()
        self._cache[key] = proxy
        return proxy

    def _route(self, scheme: str, host: str, port: int | None) -> Proxy | None:
        proxy = self.proxies.get(scheme)
        if proxy is None:
            return None
        if self.from_env and is_loopback(host):
            return None
        if self.bypass.matches(host, port if port is not None else _DEFAULT_PORTS.get(scheme, 0)):
            return None
        return proxy

    def route_url(self, url: str | httpx.URL) -> Proxy | None:
        """The proxy for a request to `url` (see `route`)."""
        parsed = httpx.URL(url)
        return self.route(parsed.scheme, parsed.host, parsed.port)

    def __repr__(self) -> str:
        shown = ", ".join(f"{scheme}: {proxy!r}" for scheme, proxy in self.proxies.items())
        return f"ProxyRoutes({{{shown}}}, from_env={self.from_env})"


def parse_proxy(value: object, source: str, *, default_scheme: bool = False) -> Proxy:
    """The proxy a URL names.

    Args:
        value: the URL (a `str` or an `httpx.URL`).
        source: how messages name it (`proxy=`, `HTTPS_PROXY`).
        default_scheme: read a value without a scheme as `http://` (environment values);
            else it is refused.

    Raises:
        ConfigurationError: not a URL, no scheme (unless `default_scheme`), a scheme other
            than http(s), no host, or a control or non-ASCII character in the credentials.
            The message names `source` and shows at most the scheme and host.
    """
    if isinstance(value, httpx.URL):
        value = str(value)
    if not isinstance(value, str):
        raise ConfigurationError(f"{source} must be a URL string, got {type(value).__name__}")
    text = value.strip()
    if not text:
        raise ConfigurationError(f"{source} is empty")
    if "://" not in text:
        if not default_scheme:
            raise ConfigurationError(
                f"{source} must be a URL with a scheme, like http://proxy.example:3128"
            )
        text = "http://" + text
    scheme = text.partition("://")[0].lower()
    if scheme in _SOCKS:
        raise ConfigurationError(
            f"{source}: SOCKS proxies ({scheme}://) are not supported; use an http:// or "
            "https:// proxy"
        )
    if scheme not in _DEFAULT_PORTS:
        raise ConfigurationError(
            f"{source} must be an http:// or https:// proxy URL, got {scheme[:20]}://…"
        )
    try:
        url = httpx.URL(text)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        # httpx's message may quote part of the URL: mask what could be credentials.
        userinfo = text.partition("://")[2].rpartition("@")[0]
        secrets = [userinfo, *userinfo.split(":")] if userinfo else []
        detail = redact_text(str(exc), [s for s in secrets if s])
        raise ConfigurationError(f"{source} is not a valid URL ({detail})") from None
    if not url.host:
        raise ConfigurationError(f"{source} must name the proxy's host, got {scheme}://")
    for part, what in ((url.username, "user name"), (url.password, "password")):
        if any(not c.isascii() or not c.isprintable() for c in part):
            raise ConfigurationError(
                f"{source}: the proxy {what} contains a control or non-ASCII character"
            )
    return Proxy(
        scheme=scheme,
        host=url.host,
        port=url.port or _DEFAULT_PORTS[scheme],
        username=url.username,
        password=url.password,
        source=source,
    )


def _variable(environ: Mapping[str, str], name: str) -> tuple[str, str] | None:
    """`(variable, value)` of the lowercase `name`, else the uppercase one; None when
    unset or empty."""
    for variable in (name, name.upper()):
        if variable in environ:
            value = environ[variable].strip()
            return (variable, value) if value else None
    return None


def resolve_proxies(
    proxy: object | None, *, trust_env: bool, environ: Mapping[str, str]
) -> ProxyRoutes | None:
    """The routes of a client made with `proxy=` and `trust_env=` (module docstring).

    Args:
        proxy: the `proxy=` argument (a URL), or None.
        trust_env: read the environment's proxies when `proxy` is None.
        environ: the environment.

    Returns:
        The routes, or None when every request goes direct.

    Raises:
        ConfigurationError: see `parse_proxy`; the message names the argument or variable.
    """
    if proxy is not None:
        one = parse_proxy(proxy, "proxy=")
        return ProxyRoutes({"http": one, "https": one})
    if not trust_env:
        return None
    proxies: dict[str, Proxy] = {}
    fallback = _variable(environ, "all_proxy")
    for scheme in ("http", "https"):
        found = _variable(environ, f"{scheme}_proxy")
        if found is not None and found[0] == "HTTP_PROXY" and "REQUEST_METHOD" in environ:
            found = None  # httpoxy: under CGI, a request header can set HTTP_PROXY
        found = found or fallback
        if found is not None:
            proxies[scheme] = parse_proxy(found[1], found[0], default_scheme=True)
    if not proxies:
        return None
    no_proxy = _variable(environ, "no_proxy")
    bypass = NoProxy.parse(no_proxy[1]) if no_proxy is not None else NoProxy()
    if bypass.everything:
        return None
    return ProxyRoutes(proxies, bypass=bypass, from_env=True)


def check_clear_text(
    routes: ProxyRoutes | None, base_url: str, *, allow_insecure_http: bool
) -> None:
    """Refuse a configuration that would send credentials in clear text to a proxy over
    the network: proxy credentials to an `http://` proxy, or the API's `Authorization`
    of an `http://` base URL through one (loopback proxies and `allow_insecure_http`
    excepted).

    Args:
        routes: the client's routes.
        base_url: the client's base URL.
        allow_insecure_http: the caller allowed clear text.

    Raises:
        ConfigurationError: naming the argument or variable and the proxy's host.
    """
    if routes is None or allow_insecure_http:
        return
    for proxy in dict.fromkeys(routes.proxies.values()):
        if proxy.scheme == "http" and proxy.auth is not None and not is_loopback(proxy.host):
            raise ConfigurationError(
                f"refusing to send the proxy credentials of {proxy.source} in clear text to "
                f"{proxy.host}: use an https:// proxy, or pass allow_insecure_http=True"
            )
    through = routes.route_url(base_url)
    if (
        through is not None
        and httpx.URL(base_url).scheme == "http"
        and through.scheme == "http"
        and not is_loopback(through.host)
    ):
        raise ConfigurationError(
            f"refusing to send credentials in clear text through the proxy {through.host} "
            f"({through.source}): use an https base URL, or pass allow_insecure_http=True"
        )
