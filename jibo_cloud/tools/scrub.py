"""Personal-data scrubbing for captured traffic (names, serials, ids, tokens, keys, locations,
SSIDs, emails, addresses).

Two mechanisms, applied together:

- **By key**: values under keys that hold personal data (``firstName``, ``serialNumber``,
  ``SSID``, ``token``, ``lat``, …) are replaced, and each replaced string is *remembered*.
- **By value**: every remembered string is replaced wherever else it appears (a robot token in
  a socket path, a name inside a transcript), and patterns that are personal whatever their key
  (24-hex ids, ``BOJW-`` serials, JWTs, emails, IPv4 addresses, the MAC node of UUIDv1 ids) are
  replaced everywhere.

Replacements are consistent within one :class:`Scrubber` (the same id always becomes the same
fake, so cross references still match) and salted per run, so fakes cannot be reversed by
hashing guesses. Like ``shared/fixtures/README.md``: people become ``Alex``/``Example``-style
placeholders, the home becomes Boston.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

#: Keys whose string values are people's names or the robot's name.
NAME_KEYS = frozenset(
    k.lower()
    for k in (
        "firstName", "lastName", "phoneticName", "nickname", "name", "displayName",
        "friendlyName", "friendlyId", "robotFriendlyId", "deviceId", "fullName", "username",
    )
)  # fmt: skip
#: Keys holding credentials.
SECRET_KEYS = frozenset(
    k.lower()
    for k in (
        "token", "hubToken", "robotToken", "accessKeyId", "secretAccessKey", "password",
        "refreshToken", "accessToken", "secret", "sessionToken", "apiKey", "key",
    )
)  # fmt: skip
#: Keys holding identifiers that point at people, robots or households.
ID_KEYS = frozenset(
    k.lower()
    for k in (
        "id", "_id", "loopId", "loopIds", "accountId", "accountID", "robotId", "robotID",
        "robot", "owner", "looperID", "speaker", "userId", "personIDs", "memberId",
        "legalGuardianId", "serial", "serialNumber", "email", "phone", "phoneNumber",
    )
)  # fmt: skip
#: Keys holding where the household is.
PLACE_KEYS = frozenset(
    k.lower()
    for k in (
        "city", "state", "stateAbbr", "postalCode", "zip", "zipCode", "address", "street",
        "SSID", "bssid", "ssidName", "wifi", "macAddress", "mac", "ip", "remoteAddress",
    )
)  # fmt: skip
#: Numbers replaced by fixed fakes (the fixtures' Boston and 2000-01-01).
FIXED_NUMBERS = {"lat": 42.3601, "lng": -71.0589, "latitude": 42.3601, "longitude": -71.0589}
BIRTH_KEYS = frozenset(("birthdate", "birthday", "dob"))
FAKE_BIRTH_MS = 946684800000

ENUM_LIKE = re.compile(r"[A-Z0-9_]+")
HEX24 = re.compile(r"\b[0-9a-f]{24}\b")
SERIAL = re.compile(r"\bBOJW-[0-9A-Za-z-]{4,}")
JWT = re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
IPV4 = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")
UUID1_NODE = re.compile(
    r"\b([0-9a-f]{8}-[0-9a-f]{4}-1[0-9a-f]{3}-[0-9a-f]{4}-)([0-9a-f]{12})\b", re.IGNORECASE
)
AWS_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/")
AWS_SIGNATURE = re.compile(r"Signature=[0-9a-f]+")
#: Remembered values shorter than this are replaced only where they stand, not inside text.
MIN_SUBSTRING = 4
#: Loopback and documentation addresses are not personal.
KEEP_IPS = ("127.", "0.0.0.0", "192.0.2.")

#: Header names whose values are credentials or addresses.
SECRET_HEADERS = frozenset(
    ("authorization", "cookie", "set-cookie", "x-amz-security-token", "x-api-key")
)
ADDRESS_HEADERS = frozenset(("x-forwarded-for", "x-real-ip", "forwarded"))


@attrs.define
class Scrubber:
    """Replaces personal values consistently; remembers what it replaced."""

    salt: bytes = attrs.field(factory=lambda: os.urandom(16), repr=False)
    _known: dict[str, str] = attrs.field(factory=dict, repr=False)
    _counts: dict[str, int] = attrs.field(factory=dict)

    def _fake(self, kind: str, value: str) -> str:
        if value in self._known:
            return self._known[value]
        if HEX24.fullmatch(value):
            fake = hashlib.sha256(self.salt + value.encode()).hexdigest()[:24]
        else:
            n = self._counts[kind] = self._counts.get(kind, 0) + 1
            fake = {
                "name": f"Test-Name-{n}",
                "secret": f"scrubbed-{kind}-{n}",
                "serial": f"BOJW-1000-0000-0000-{n:04d}",
                "email": f"user{n}@example.com",
                "place": f"Example-Place-{n}",
                "ssid": "ExampleWifi",
                "id": f"scrubbed-id-{n}",
            }.get(kind, f"scrubbed-{n}")
        self._known[value] = fake
        return fake

    def remember(self, value: str, kind: str = "secret") -> str:
        """Mark ``value`` personal (e.g. a token seen in a path); returns its fake."""
        return self._fake(kind, value)

    def _key_kind(self, key: str, value: str) -> str | None:
        lowered = key.lower()
        if lowered in NAME_KEYS:
            # Enum-like values (``"name": "NEUTRAL"``) and skill ids are not anyone's name.
            return None if ENUM_LIKE.fullmatch(value) or value.startswith("@") else "name"
        if lowered in SECRET_KEYS:
            return "secret"
        if lowered in ("serial", "serialnumber"):
            return "serial"
        if lowered == "email":
            return "email"
        if lowered in ("ssid", "ssidname", "wifi", "bssid"):
            return "ssid"
        if lowered in PLACE_KEYS:
            return "place"
        if lowered in ID_KEYS:
            # Skill ids (``@be/clock``) and other non-personal ids stay; patterns catch the rest.
            return None if value.startswith("@") or "/" in value else "id"
        return None

    def learn(self, obj: Any, key: str | None = None) -> None:
        """Remember the personal strings in ``obj`` without producing output (first pass)."""
        if isinstance(obj, Mapping):
            for k, v in obj.items():
                self.learn(v, str(k))
        elif isinstance(obj, list | tuple):
            for item in obj:
                self.learn(item, key)
        elif isinstance(obj, str) and key is not None:
            kind = self._key_kind(key, obj)
            if kind is not None and obj:
                self._fake(kind, obj)

    def scrub(self, obj: Any, key: str | None = None) -> Any:
        """A scrubbed copy of a JSON value."""
        if isinstance(obj, Mapping):
            return {k: self.scrub(v, str(k)) for k, v in obj.items()}
        if isinstance(obj, list | tuple):
            return [self.scrub(item, key) for item in obj]
        lowered = (key or "").lower()
        if isinstance(obj, int | float) and not isinstance(obj, bool):
            if lowered in FIXED_NUMBERS:
                return FIXED_NUMBERS[lowered]
            if lowered in BIRTH_KEYS:
                return FAKE_BIRTH_MS
            return obj
        if isinstance(obj, str):
            kind = self._key_kind(key, obj) if key is not None else None
            if lowered in BIRTH_KEYS:
                return "2000-01-01"
            if kind is not None and obj:
                return self._fake(kind, obj)
            return self.text(obj)
        return obj

    def text(self, value: str) -> str:
        """Scrub free text: remembered values anywhere in it, then the personal patterns."""
        # Known values become placeholders first, so the patterns below never re-scrub a fake.
        held: list[str] = []
        for original in sorted(self._known, key=len, reverse=True):
            if len(original) >= MIN_SUBSTRING and original in value:
                held.append(self._known[original])
                value = value.replace(original, f"\x00{len(held) - 1}\x00")
        value = JWT.sub(lambda m: self._fake("secret", m.group(0)), value)
        value = SERIAL.sub(lambda m: self._fake("serial", m.group(0)), value)
        value = EMAIL.sub(lambda m: self._fake("email", m.group(0)), value)
        value = HEX24.sub(lambda m: self._fake("id", m.group(0)), value)
        value = IPV4.sub(self._ip, value)
        value = UUID1_NODE.sub(lambda m: m.group(1) + self._node(m.group(2)), value)
        return re.sub("\x00(\\d+)\x00", lambda m: held[int(m.group(1))], value)

    def _ip(self, match: re.Match[str]) -> str:
        ip = match.group(0)
        if ip.startswith(KEEP_IPS):
            return ip
        fake = self._known.get(ip)
        if fake is None:
            n = self._counts["ip"] = self._counts.get("ip", 0) + 1
            fake = self._known[ip] = f"192.0.2.{n % 254 + 1}"
        return fake

    def _node(self, node: str) -> str:
        # A fake node with the multicast bit set, as RFC 4122 asks for non-MAC nodes.
        digest = hashlib.sha256(self.salt + node.lower().encode()).hexdigest()[:12]
        return f"{int(digest[:2], 16) | 1:02x}{digest[2:]}"

    def headers(self, headers: Iterable[tuple[str, str]]) -> dict[str, str]:
        """Scrubbed request or response headers (credentials and addresses replaced)."""
        out: dict[str, str] = {}
        for name, value in headers:
            lowered = name.lower()
            if lowered == "authorization" and value.startswith("Bearer "):
                out[name] = "Bearer " + self._fake("secret", value[7:].strip())
            elif lowered == "authorization" and value.startswith("AWS4-HMAC-SHA256"):
                value = AWS_CREDENTIAL.sub(
                    lambda m: f"Credential={self._fake('secret', m.group(1))}/", value
                )
                out[name] = AWS_SIGNATURE.sub("Signature=" + "0" * 64, value)
            elif lowered in SECRET_HEADERS:
                out[name] = self._fake("secret", value)
            elif lowered in ADDRESS_HEADERS or lowered.startswith("x-jibo-robotid"):
                out[name] = self.text(value) if lowered in ADDRESS_HEADERS else "scrubbed-robot"
            else:
                out[name] = self.text(value)
        return out
