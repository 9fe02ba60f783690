"""Rate limits: token buckets per key and a failed-authentication window per key.

Pure: no trio, no clock reads. Every method takes ``now`` (seconds on any monotonic clock; the
server passes ``trio.current_time()``, tests pass numbers), and returns how long the caller
must wait: ``0.0`` means allowed.

Memory is bounded: a table never holds more than ``max_keys`` entries.
Entries are kept in the order they were last touched; an idle entry (a bucket that has
refilled, a window that has ended) carries no information, and since idleness depends only
on the time since the last touch, the idle entries are always a prefix of that order and are
dropped from the front in amortised O(1). When the table is full of active entries, the
least recently touched one is evicted (an attacker needs ``max_keys`` addresses at once to
profit from that, and then gains one fresh bucket per eviction).
"""

from __future__ import annotations

from collections import OrderedDict

import attrs

#: Burst allowance: a bucket holds this many seconds' worth of its rate (config.py's "burst of
#: 4 times that").
BURST_FACTOR = 4.0
#: Entries per table before the least recently used is evicted.
DEFAULT_MAX_KEYS = 50_000
#: The failed-authentication window (``auth_failures_per_minute``).
FAILURE_WINDOW_SECONDS = 60.0


@attrs.define
class _Bucket:
    tokens: float
    stamp: float


@attrs.define
class TokenBuckets:
    """One token bucket per key: ``rate`` tokens per second, holding at most ``burst``.

    A key never seen starts full, so the first ``burst`` requests pass at once.
    """

    rate: float = attrs.field(validator=attrs.validators.gt(0))
    burst: float = attrs.field(validator=attrs.validators.ge(1))
    max_keys: int = attrs.field(default=DEFAULT_MAX_KEYS, validator=attrs.validators.ge(1))
    _entries: OrderedDict[str, _Bucket] = attrs.field(init=False, factory=OrderedDict)

    @classmethod
    def per_second(cls, rate: float, *, max_keys: int = DEFAULT_MAX_KEYS) -> TokenBuckets:
        """``rate`` per second with the burst config.py documents (4 times the rate, at least 1)."""
        return cls(rate=rate, burst=max(1.0, BURST_FACTOR * rate), max_keys=max_keys)

    def __len__(self) -> int:
        return len(self._entries)

    def take(self, key: str, now: float) -> float:
        """Spend one token of ``key``'s bucket.

        Returns:
            0.0 when a token was spent; otherwise the seconds until one is available
            (nothing is spent, so a refused caller does not dig its hole deeper).
        """
        self._sweep(now)
        bucket = self._entries.pop(key, None)
        if bucket is None:
            bucket = _Bucket(tokens=self.burst, stamp=now)
            while len(self._entries) >= self.max_keys:
                self._entries.popitem(last=False)
        else:
            elapsed = max(0.0, now - bucket.stamp)
            bucket.tokens = min(self.burst, bucket.tokens + elapsed * self.rate)
            bucket.stamp = now
        self._entries[key] = bucket  # re-inserted last: the most recently touched
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0.0
        return (1.0 - bucket.tokens) / self.rate

    def _sweep(self, now: float) -> None:
        """Drop idle buckets (refilled to ``burst``) from the least recently touched end."""
        refill_seconds = self.burst / self.rate
        entries = self._entries
        while entries:
            key, oldest = next(iter(entries.items()))
            if now - oldest.stamp < refill_seconds:
                return
            del entries[key]


@attrs.define
class _Window:
    start: float
    count: int


@attrs.define
class FailureWindows:
    """Failed authentications per key in fixed windows of ``window`` seconds.

    Once ``limit`` failures are counted in one window, :meth:`blocked` answers the rest of
    that window: the ``limit``-th failure is the last one served (60 password
    guesses per second on ``Login`` get throttled).
    """

    limit: int = attrs.field(validator=attrs.validators.ge(1))
    window: float = attrs.field(default=FAILURE_WINDOW_SECONDS, validator=attrs.validators.gt(0))
    max_keys: int = attrs.field(default=DEFAULT_MAX_KEYS, validator=attrs.validators.ge(1))
    # Ordered by window start: a window is reset (and moved last) only when it has ended.
    _entries: OrderedDict[str, _Window] = attrs.field(init=False, factory=OrderedDict)

    def __len__(self) -> int:
        return len(self._entries)

    def record(self, key: str, now: float) -> bool:
        """Count one failed authentication of ``key``; True when this one blocked it."""
        self._sweep(now)
        entry = self._entries.get(key)
        if entry is None or now - entry.start >= self.window:
            self._entries.pop(key, None)
            while len(self._entries) >= self.max_keys:
                self._entries.popitem(last=False)
            entry = self._entries[key] = _Window(start=now, count=0)
        entry.count += 1
        return entry.count == self.limit

    def blocked(self, key: str, now: float) -> float:
        """Seconds ``key`` stays blocked (0.0: not blocked)."""
        entry = self._entries.get(key)
        if entry is None or entry.count < self.limit:
            return 0.0
        return max(0.0, entry.start + self.window - now)

    def _sweep(self, now: float) -> None:
        entries = self._entries
        while entries:
            key, oldest = next(iter(entries.items()))
            if now - oldest.start < self.window:
                return
            del entries[key]


@attrs.define
class Limits:
    """Every limit of one server process (per-address and per-principal tables).

    Built from the configuration with :meth:`from_config`; the access middleware
    (:mod:`jibo_cloud.access`) consults it for each request and socket, and
    :func:`jibo_cloud.access.charge_principal` for each identified REST call.
    """

    requests: TokenBuckets
    handshakes: TokenBuckets
    failures: FailureWindows
    principals: TokenBuckets

    @classmethod
    def from_config(
        cls,
        *,
        rate_per_address: float,
        handshakes_per_address: float,
        auth_failures_per_minute: int,
        rate_per_principal: float,
        max_keys: int = DEFAULT_MAX_KEYS,
    ) -> Limits:
        return cls(
            requests=TokenBuckets.per_second(rate_per_address, max_keys=max_keys),
            handshakes=TokenBuckets.per_second(handshakes_per_address, max_keys=max_keys),
            failures=FailureWindows(limit=auth_failures_per_minute, max_keys=max_keys),
            principals=TokenBuckets.per_second(rate_per_principal, max_keys=max_keys),
        )

    def admit_request(self, address: str, now: float) -> float:
        """An HTTP request from ``address``: 0.0, or the seconds to wait (answer 429)."""
        return self.failures.blocked(address, now) or self.requests.take(address, now)

    def admit_handshake(self, address: str, now: float) -> float:
        """A websocket upgrade from ``address``: 0.0, or the seconds to wait (refuse it)."""
        return self.failures.blocked(address, now) or self.handshakes.take(address, now)

    def failed_authentication(self, address: str, now: float) -> bool:
        """Count a failure; True when it blocked ``address`` (once per window)."""
        return self.failures.record(address, now)

    def admit_principal(self, principal: str, now: float) -> float:
        return self.principals.take(principal, now)
