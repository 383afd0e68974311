"""A fake Tradier market-data server: real HTTP on 127.0.0.1 (werkzeug, its own thread).

It serves expirations, chains, quotes and the clock from a small deterministic chain,
enforces a fixed one-minute request window per token with 429s and the
``X-Ratelimit-*`` headers, refuses unknown tokens with 401, and injects faults on demand:
``fail_next("500" | "timeout" | "malformed" | "errors200" | "429")``, or at random with
``fault_rate`` (a seeded share of the authorised requests, drawn from ``fault_kinds``).

Options: ``clock`` (an otrade Clock; the rate window, the request log and the quote stamps
use it, so a SimulatedClock shared with the client runs the window in simulated time; real
time by default) and ``strikes`` (the strikes of every chain).  A chain for ``SPX`` holds
the SPXW weeklies on every date and the AM-settled SPX root too on third Fridays (SPX and
SPXW on the same date); any other symbol's chain has the symbol as its only root.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, timedelta

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from otrade.clock import Clock
from otrade.constants import OptionRight
from otrade.symbols import build_option_symbol

TOKEN = "fake-tradier-token-0123456789"


# Symbols the fake quotes as indexes (type "index"); everything else is an ETF.
INDEXES = frozenset({"SPX", "NDX", "RUT", "VIX", "XSP"})


class FakeTradier:
    """The fake; use :func:`running_fake` to start and stop it."""

    def __init__(
        self,
        limit_per_minute: int = 120,
        timeout_delay_s: float = 2.0,
        *,
        clock: Clock | None = None,
        strikes: Sequence[float] = (440.0, 450.0, 460.0),
        fault_rate: float = 0.0,
        fault_kinds: Sequence[str] = ("500", "timeout", "malformed", "errors200"),
        seed: int = 1,
    ) -> None:
        self.server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
        self.limit_per_minute = limit_per_minute
        self.timeout_delay_s = timeout_delay_s
        self.clock = clock
        self.strikes = tuple(strikes)
        self.fault_rate = fault_rate
        self.fault_kinds = tuple(fault_kinds)
        self.requests: list[tuple[float, str, str]] = []  # (time, method, path)
        self.params: list[dict[str, str]] = []  # query and form fields, one per request
        self.faults: deque[str] = deque()
        self.rate_limited = 0  # 429s sent because the window was used up (not injected ones)
        self.faulted = 0  # faults injected, by fail_next or at random
        self._random = random.Random(seed)
        self.sessions: list[str] = []
        self.first_expiry = date(2026, 12, 4)
        self.spot = 450.0
        self._lock = threading.Lock()
        self._window_start = 0.0
        self._window_used = 0

    @property
    def url(self) -> str:
        return self.server.url_for("/").rstrip("/")

    def fail_next(self, *kinds: str) -> None:
        self.faults.extend(kinds)

    def paths(self) -> list[str]:
        return [path for _, _, path in self.requests]

    def now(self) -> float:
        """POSIX seconds on the fake's clock (real time without one)."""
        return self.clock.timestamp() if self.clock is not None else time.time()

    # -- handling -------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        now = self.now()
        with self._lock:
            self.requests.append((now, request.method, request.path))
            self.params.append(dict(request.args.items()) | dict(request.form.items()))
            if request.headers.get("Authorization") != f"Bearer {TOKEN}":
                return Response("Invalid Access Token", status=401)
            if now - self._window_start >= 60:
                self._window_start, self._window_used = now, 0
            self._window_used += 1
            used = self._window_used
            expiry_ms = int((self._window_start + 60) * 1000)
            fault = self.faults.popleft() if self.faults else None
            if fault is None and self.fault_rate and self._random.random() < self.fault_rate:
                fault = self._random.choice(self.fault_kinds)
            if used > self.limit_per_minute and fault != "429":
                self.rate_limited += 1
            elif fault is not None:
                self.faulted += 1
        headers = {
            "X-Ratelimit-Allowed": str(self.limit_per_minute),
            "X-Ratelimit-Used": str(used),
            "X-Ratelimit-Available": str(max(0, self.limit_per_minute - used)),
            "X-Ratelimit-Expiry": str(expiry_ms),
        }
        if used > self.limit_per_minute or fault == "429":
            return Response("Quota Violation", status=429, headers=headers | {"Retry-After": "1"})
        if fault == "500":
            return Response("upstream error", status=503, headers=headers)
        if fault == "timeout":
            time.sleep(self.timeout_delay_s)
        if fault == "malformed":
            return Response('{"quotes": {"quote": [', status=200, headers=headers,
                            content_type="application/json")  # fmt: skip
        if fault == "errors200":
            return self._json({"errors": {"error": "Invalid Parameter: symbols"}}, headers)
        return self._json(self._payload(request), headers)

    @staticmethod
    def _json(payload: object, headers: dict[str, str]) -> Response:
        return Response(json.dumps(payload), status=200, headers=headers,
                        content_type="application/json")  # fmt: skip

    def _payload(self, request: Request) -> object:
        if request.path == "/v1/markets/options/expirations":
            dates = [self.first_expiry + timedelta(weeks=n) for n in range(3)]
            return {"expirations": {"expiration": [
                {"date": d.isoformat(), "contract_size": 100,
                 "expiration_type": "standard" if 15 <= d.day <= 21 else "weeklys"}
                for d in dates
            ]}}  # fmt: skip
        if request.path == "/v1/markets/options/chains":
            symbol = request.args.get("symbol", "SPY")
            expiry = date.fromisoformat(request.args["expiration"])
            roots = [symbol]
            if symbol == "SPX":
                third_friday = expiry.weekday() == 4 and 15 <= expiry.day <= 21
                roots = ["SPX", "SPXW"] if third_friday else ["SPXW"]
            options = [self._option(expiry, strike, right, symbol, root)
                       for root in roots for strike in self.strikes
                       for right in OptionRight]  # fmt: skip
            if not options:
                return {"options": None}
            return {"options": {"option": options if len(options) > 1 else options[0]}}
        if request.path == "/v1/markets/quotes":
            symbols = request.form.get("symbols", request.args.get("symbols", "")).split(",")
            known = [s for s in symbols if s and not s.startswith("UNKNOWN")]
            unknown = [s for s in symbols if s.startswith("UNKNOWN")]
            quotes = [self._quote(symbol) for symbol in known]
            body: dict[str, object] = {}
            if quotes:
                body["quote"] = quotes[0] if len(quotes) == 1 else quotes
            if unknown:
                body["unmatched_symbols"] = {"symbol": unknown[0] if len(unknown) == 1 else unknown}
            return {"quotes": body or None}
        if request.path == "/v1/markets/events/session":
            with self._lock:
                self.sessions.append(f"session-{len(self.sessions) + 1}")
                session = self.sessions[-1]
            return {"stream": {"url": "https://stream.example/v1/markets/events",
                               "sessionid": session}}  # fmt: skip
        if request.path == "/v1/markets/clock":
            return {"clock": {"date": "2026-12-01", "state": "open", "timestamp": int(self.now()),
                              "next_change": "16:00", "next_state": "postmarket"}}  # fmt: skip
        return {"errors": {"error": f"unknown path {request.path}"}}

    def _quote(self, symbol: str) -> dict[str, object]:
        stamp = int(self.now() * 1000)
        return {
            "symbol": symbol, "type": "index" if symbol in INDEXES else "etf",
            "bid": self.spot - 0.05, "ask": self.spot + 0.05,
            "last": self.spot, "bid_date": stamp, "ask_date": stamp, "volume": "1000",
        }  # fmt: skip

    def _option(
        self,
        expiry: date,
        strike: float,
        right: OptionRight,
        underlying: str = "SPY",
        root: str = "SPY",
    ) -> dict[str, object]:
        intrinsic = max(
            0.0, (self.spot - strike) if right is OptionRight.CALL else (strike - self.spot)
        )
        mid = round(intrinsic + 3.0, 2)
        stamp = int(self.now() * 1000)
        third_friday = expiry.weekday() == 4 and 15 <= expiry.day <= 21
        cycle = "standard" if third_friday and not root.endswith("W") else "weeklys"
        return {
            "symbol": build_option_symbol(root, expiry, right, strike),
            "type": "option", "underlying": underlying, "root_symbol": root, "strike": strike,
            "option_type": "call" if right is OptionRight.CALL else "put",
            "expiration_date": expiry.isoformat(), "expiration_type": cycle,
            "contract_size": 100, "bid": str(mid - 0.05), "ask": mid + 0.05,
            "last": None, "bid_date": stamp, "ask_date": stamp, "volume": 0,
            "greeks": {"delta": 0.5 if right is OptionRight.CALL else -0.5, "gamma": "1.2E-2",
                       "theta": -0.1, "vega": 0.3, "rho": 0.01, "bid_iv": 0.0,
                       "mid_iv": 0.18, "ask_iv": 0.19, "smv_vol": 0.18,
                       "updated_at": "2026-12-01 14:00:00"},
        }  # fmt: skip


@contextmanager
def running_fake(**options: object) -> Iterator[FakeTradier]:
    """Start a fake on a free port; stop it afterwards."""
    fake = FakeTradier(**options)  # type: ignore[arg-type]
    fake.server.expect_request(re.compile(".*")).respond_with_handler(fake.handle)
    fake.server.start()
    try:
        yield fake
    finally:
        fake.server.clear()
        if fake.server.is_running():
            fake.server.stop()
