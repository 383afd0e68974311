"""The Tradier datafeed: option chains with Greeks polled over REST, quotes optionally streamed.

:class:`TradierDataFeed` runs on the MainEngine's IO loop.  At start it checks the token
with one market-clock call, then polls without end:

* **One cycle** is one POSTed quotes call for every active underlying, then one chains
  call (``greeks=true``) per active (underlying, expiry), nearest expiry first.  SPX and
  SPXW options of one date come back from the same call, so two active chains that share
  an underlying and a date cost one call; the options are kept only when their
  ``root_symbol`` is an active chain's root.
* **Pacing** is the token's :class:`~otrade.datafeeds.ratelimit.RequestBudget`: every
  call, retries and stream sessions included, takes the next free slot, ``60 / (limit x
  0.9)`` seconds after the previous one, so calls are spread evenly and never burst.  A
  cycle follows the previous one at once; with at most :data:`MAX_IN_FLIGHT` calls
  outstanding, a slow chain response does not hold up the slots after it.
* **Fitting the window**: when a cycle (quotes calls plus chain calls) fits in
  :data:`PLANNING_SHARE` of the calls the budget allows per 60 s window, every active
  chain is refreshed at least once per window.  When it does not, each cycle refreshes as
  many chains as fit, the least recently refreshed first (ties nearest first), which
  refreshes every chain round-robin, and one WARNING says the limit is too low.
* **Faults**: a call that fails after the client's own retries
  (:class:`TradierUnavailableError`) or that Tradier answers with errors
  (:class:`TradierResponseError`) is logged and made again at once, at most
  :data:`RETRIES_PER_CYCLE` times a cycle; the feed goes on.  Only a refused token
  (:class:`TradierAuthError`, HTTP 401) or :meth:`TradierDataFeed.close` stops it.
* **Streaming** (``tradier.streaming``, production only): the WebSocket subscribes to the
  active underlyings and every option symbol seen in the active chains; its quotes go out
  as quote events with source ``tradier-stream``.  Polling goes on for the Greeks.

Greeks: Tradier's are ORATS' and are refreshed about once an hour.  They are put as
:class:`~otrade.objects.GreeksData` with source ``tradier``, the implied volatility being
ORATS' smoothed ``smv_vol`` (the one their Greeks are computed from; ``mid_iv`` when it is
missing) and the time being when they were received (Tradier's ``updated_at`` has no
documented time zone).  otrade assumes Tradier's units are otrade's: theta per calendar
day, vega and rho per volatility or rate point.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import math
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from typing import Final

import attrs
from loguru import logger

from otrade.clock import Clock
from otrade.datafeeds.base import ActiveChain, BaseDataFeed
from otrade.datafeeds.ratelimit import RequestBudget
from otrade.datafeeds.tradier_client import (
    PRODUCTION_URL,
    QUOTES_PER_REQUEST,
    SANDBOX_URL,
    TradierAuthError,
    TradierClient,
    TradierUnavailableError,
)
from otrade.datafeeds.tradier_json import (
    TradierResponseError,
    option_contract,
    provider_greeks,
    quote_record,
    underlying_contract,
)
from otrade.datafeeds.tradier_stream import STREAM_URL, TradierStream
from otrade.errors import EngineError
from otrade.event import EventEngine
from otrade.ioloop import IoLoop
from otrade.objects import ContractData, GreeksData
from otrade.settings import Settings

__all__ = [
    "MAX_IN_FLIGHT",
    "PLANNING_SHARE",
    "PRODUCTION_REQUESTS_PER_MINUTE",
    "RETRIES_PER_CYCLE",
    "SANDBOX_REQUESTS_PER_MINUTE",
    "WINDOW_S",
    "TradierDataFeed",
]

WINDOW_S: Final = 60.0
"""Tradier's rate-limit window, and the longest a chain may wait for a refresh."""
PRODUCTION_REQUESTS_PER_MINUTE: Final = 120
"""Tradier's market-data limit for a production token."""
SANDBOX_REQUESTS_PER_MINUTE: Final = 60
"""Tradier's market-data limit for a sandbox token."""
MAX_IN_FLIGHT: Final = 4
"""Calls outstanding at once; the budget still spaces their starts evenly."""
RETRIES_PER_CYCLE: Final = 2
"""How often a call that failed (after the client's own retries) is tried again in its
cycle, at once, before it waits for the next cycle."""
PLANNING_SHARE: Final = 0.95
"""The share of a window's calls one cycle may plan; the rest is room for retries and
stream sessions."""
SHUTDOWN_TIMEOUT_S: Final = 5.0
"""How long :meth:`TradierDataFeed.close` waits for the feed to stop."""

_SOURCE: Final = "tradier"
_OCC_TAIL: Final = 15  # YYMMDD + C/P + 8-digit strike after the root


@attrs.frozen
class _Call:
    """One planned REST call: the underlyings' quotes, or one (underlying, expiry) chain."""

    underlyings: tuple[str, ...] = ()
    underlying: str = ""
    expiry: date | None = None
    roots: frozenset[str] = frozenset()

    @property
    def is_chain(self) -> bool:
        return self.expiry is not None

    @property
    def key(self) -> tuple[object, ...]:
        if self.expiry is None:
            return ("quotes", self.underlyings)
        return ("chain", self.underlying, self.expiry)

    def describe(self) -> str:
        if self.expiry is None:
            return f"quotes of {', '.join(self.underlyings)}"
        return f"chain {'/'.join(sorted(self.roots))} {self.expiry.isoformat()}"


class _Scheduler:
    """Plans the calls of each cycle (pure bookkeeping; no I/O, no clock).

    Args:
        calls_per_window: Returns the calls the budget allows per window, now.
    """

    def __init__(self, calls_per_window: Callable[[], int]) -> None:
        self.underlyings: tuple[str, ...] = ()
        self.chains: frozenset[ActiveChain] = frozenset()
        self.calls_per_window = calls_per_window
        self.overloaded = False
        self._plan: deque[_Call] = deque()
        self._launched: set[tuple[object, ...]] = set()
        self._retries: Counter[tuple[object, ...]] = Counter()
        self._last_launch: dict[tuple[object, ...], int] = {}
        self._launches = 0

    def set_active(self, underlyings: Iterable[str], chains: frozenset[ActiveChain]) -> None:
        """Replace the active set; calls already made in this cycle are not made again."""
        self.underlyings = tuple(sorted(set(underlyings)))
        self.chains = chains
        active = {call.key for call in self.chain_calls()}
        self._last_launch = {k: n for k, n in self._last_launch.items() if k in active}
        self._plan = deque(call for call in self._build() if call.key not in self._launched)

    def next_call(self) -> _Call | None:
        """The next call to make, starting a new cycle when this one is done."""
        if not self._plan:
            self._launched.clear()
            self._retries.clear()
            self._plan = deque(self._build())
        if not self._plan:
            return None
        call = self._plan.popleft()
        self._launched.add(call.key)
        self._launches += 1
        self._last_launch[call.key] = self._launches
        return call

    def failed(self, call: _Call) -> None:
        """Make a failed call next (``RETRIES_PER_CYCLE`` times a cycle) if still active.

        The retry comes in front of the plan even when the call is also planned later (its
        failure arrived after a new cycle began), so a failure never delays a chain by a
        whole cycle.
        """
        if self._retries[call.key] >= RETRIES_PER_CYCLE:
            return
        if self._plan and self._plan[0].key == call.key:
            return
        active = {chain.key: chain for chain in self.chain_calls()}
        if self.underlyings:
            active[("quotes", self.underlyings)] = _Call(underlyings=self.underlyings)
        current = active.get(call.key)
        if current is not None:
            self._retries[call.key] += 1
            self._plan.appendleft(current)

    def quote_calls(self) -> int:
        """Requests one cycle's quotes take (the client POSTs in batches)."""
        return math.ceil(len(self.underlyings) / QUOTES_PER_REQUEST)

    def chain_capacity(self) -> int:
        """Chain calls one cycle may plan within a window."""
        planned = math.floor(self.calls_per_window() * PLANNING_SHARE)
        return max(1, planned - self.quote_calls())

    def chain_calls(self) -> list[_Call]:
        """One call per active (underlying, expiry), nearest expiry first."""
        roots: dict[tuple[str, date], set[str]] = {}
        for chain in self.chains:
            roots.setdefault((chain.underlying, chain.expiry), set()).add(chain.root)
        ordered = sorted(roots, key=lambda pair: (pair[1], pair[0]))
        return [
            _Call(underlying=underlying, expiry=expiry, roots=frozenset(roots[underlying, expiry]))
            for underlying, expiry in ordered
        ]

    def _build(self) -> list[_Call]:
        plan = [_Call(underlyings=self.underlyings)] if self.underlyings else []
        chains = self.chain_calls()
        capacity = self.chain_capacity()
        self.overloaded = len(chains) > capacity
        if self.overloaded:
            # Least recently launched first (never launched: first of all), ties nearest
            # first; then the cycle runs them nearest first.
            position = {call.key: index for index, call in enumerate(chains)}
            chosen = sorted(
                chains, key=lambda c: (self._last_launch.get(c.key, 0), position[c.key])
            )
            chains = sorted(chosen[:capacity], key=lambda c: position[c.key])
        return plan + chains


class TradierDataFeed(BaseDataFeed):
    """Tradier option chains, Greeks and quotes (see the module docstring for the rules).

    Args:
        event_engine: Where the feed puts its events.
        clock: Paces the budget and the retries and stamps what Tradier leaves unstamped.
        io_loop: The MainEngine's IO loop; it must run from :meth:`start` to :meth:`close`.
        settings: The feed reads ``settings.tradier``.
    """

    name = "tradier"

    def __init__(
        self, event_engine: EventEngine, clock: Clock, io_loop: IoLoop, settings: Settings
    ) -> None:
        super().__init__(event_engine, clock, io_loop, settings)
        self._log = logger.bind(source=_SOURCE)
        self._budget: RequestBudget | None = None
        self._client: TradierClient | None = None
        self._stream: TradierStream | None = None
        self._future: concurrent.futures.Future[None] | None = None
        self._closed = False
        self._requested: tuple[frozenset[str], frozenset[ActiveChain]] = (
            frozenset(),
            frozenset(),
        )
        # IO-thread state.
        self._task: asyncio.Task[None] | None = None
        self._scheduler = _Scheduler(self._calls_per_window)
        self._changed: asyncio.Event | None = None
        self._calls: set[asyncio.Future[None]] = set()
        self._stream_task: asyncio.Future[None] | None = None
        self._option_symbols: dict[ActiveChain, frozenset[str]] = {}
        self._auth_failed = False
        self._token_accepted = False
        self._warned: set[str] = set()

    # -- public ---------------------------------------------------------------------------

    @property
    def budget(self) -> RequestBudget | None:
        """The token's request budget (None before :meth:`start` or without a token)."""
        return self._budget

    @property
    def running(self) -> bool:
        """True while the feed polls (after :meth:`start`, until a refused token or close)."""
        return self._future is not None and not self._future.done()

    def start(self) -> None:
        """Check the settings, build the budget, client and stream, and start polling.

        Without a token the feed logs one ERROR and does nothing.  Starting twice, or
        after :meth:`close`, does nothing.

        Raises:
            EngineError: The IO loop is not running.
        """
        if self._future is not None or self._closed:
            return
        tradier = self.settings.tradier
        if not tradier.token:
            self.write_log(
                "Tradier feed not started: no token is configured (set tradier.token or "
                "OTRADE_TRADIER__TOKEN)",
                "ERROR",
            )
            return
        loop = self.io_loop.loop  # raises EngineError before anything is built
        default_limit = (
            SANDBOX_REQUESTS_PER_MINUTE if tradier.sandbox else PRODUCTION_REQUESTS_PER_MINUTE
        )
        self._budget = RequestBudget(self.clock, tradier.requests_per_minute or default_limit)
        self._client = TradierClient(
            tradier.token,
            self.clock,
            self._budget,
            base_url=tradier.base_url or (SANDBOX_URL if tradier.sandbox else PRODUCTION_URL),
            timeout_s=tradier.timeout_s,
        )
        if tradier.streaming and tradier.sandbox:
            self.write_log(
                "tradier.streaming is ignored in the sandbox (Tradier streams market data "
                "to production tokens only); quotes are polled",
                "WARNING",
            )
        elif tradier.streaming:
            self._stream = TradierStream(
                self._client, self.clock, self.on_quote, url=tradier.stream_url or STREAM_URL
            )
        self._future = asyncio.run_coroutine_threadsafe(self._run(), loop)

    def close(self) -> None:
        """Stop polling and streaming and close the HTTP client; calling it twice is harmless.

        Waits up to ``SHUTDOWN_TIMEOUT_S`` for the feed to stop, so no request starts
        after it returns (when called from the IO thread it cannot wait: it cancels).
        """
        if self._closed:
            return
        self._closed = True
        future = self._future
        if future is None or future.done():
            return
        try:
            self.io_loop.run(self._shutdown(), timeout_s=SHUTDOWN_TIMEOUT_S)
        except (EngineError, TimeoutError):
            future.cancel()

    def set_active(self, underlyings: frozenset[str], chains: frozenset[ActiveChain]) -> None:
        """Replace what is polled (and streamed); returns at once, the latest call wins.

        The new set is handed to the IO loop with ``call_soon_threadsafe``; a set given
        before :meth:`start` is used from the start.
        """
        self._requested = (underlyings, chains)
        if self._future is None or self._future.done():
            return
        try:
            loop = self.io_loop.loop
        except EngineError:
            return
        loop.call_soon_threadsafe(self._apply_active)

    # -- IO loop: life cycle --------------------------------------------------------------

    async def _run(self) -> None:
        self._task = asyncio.current_task()
        self._changed = asyncio.Event()
        try:
            self._apply_active()
            if not await self._check_token():
                return
            self._token_accepted = True
            self._update_stream_symbols()
            if self.settings.tradier.underlyings:
                listing = asyncio.ensure_future(self._list(self.settings.tradier.underlyings))
                self._calls.add(listing)
                listing.add_done_callback(self._calls.discard)
            await self._poll()
        except TradierAuthError as error:
            self._stop_for_auth(error)
        except Exception:  # noqa: BLE001 - the boundary: log with the traceback
            self._log.opt(exception=True).error("Tradier feed failed and stopped")
            self.write_log("Tradier feed failed and stopped (traceback in the log)", "ERROR")
        finally:
            await self._release()

    async def _shutdown(self) -> None:
        task = self._task
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _release(self) -> None:
        pending = [*self._calls, *([self._stream_task] if self._stream_task else [])]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        if self._client is not None:
            await self._client.close()

    async def _check_token(self) -> bool:
        """One market-clock call: a refused token stops here, after one request."""
        assert self._client is not None
        try:
            clock = await self._client.market_clock()
        except TradierAuthError as error:
            self._stop_for_auth(error)
            return False
        except (TradierUnavailableError, TradierResponseError) as error:
            self.write_log(f"Tradier market clock unavailable ({error}); polling anyway", "WARNING")
            return True
        self.write_log(f"Tradier feed started; the market is {clock.get('state', 'unknown')}")
        return True

    def _stop_for_auth(self, error: TradierAuthError) -> None:
        """Log once and stop the feed (the token will not start working by retrying)."""
        if self._auth_failed:
            return
        self._auth_failed = True
        self.write_log(f"Tradier feed stopped: {error}", "ERROR")
        task = self._task
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    async def _run_stream(self, stream: TradierStream) -> None:
        try:
            await stream.run()
        except TradierAuthError as error:
            self._stop_for_auth(error)
        except Exception:  # noqa: BLE001 - the stream is optional; polling goes on
            self._log.opt(exception=True).error("Tradier stream failed; quotes are polled only")

    # -- IO loop: listings -----------------------------------------------------------------

    async def _list(self, underlyings: tuple[str, ...]) -> None:
        """Put the listings of ``underlyings`` as contract events, one call at a time.

        One quotes call for the underlyings themselves, then per underlying its
        expirations (every root) and one chains call per expiry, nearest first, without
        Greeks.  The calls share the budget with polling; running one at a time, they
        take at most every other slot while polling is busy.  A failed call or a bad
        entry is logged and skipped; the rest goes on.
        """
        try:
            listed = await self._list_calls(underlyings)
        except TradierAuthError as error:
            self._stop_for_auth(error)
            return
        except Exception:  # noqa: BLE001 - listing is extra; polling goes on
            self._log.opt(exception=True).error("Tradier listing failed")
            self.write_log("Tradier listing failed (traceback in the log)", "ERROR")
            return
        self.write_log(f"Tradier listing of {', '.join(underlyings)} done: {listed} contracts")

    async def _list_calls(self, underlyings: tuple[str, ...]) -> int:
        assert self._client is not None
        listed = 0
        try:
            response = await self._client.quotes(underlyings)
        except (TradierUnavailableError, TradierResponseError) as error:
            self.write_log(f"Tradier listing: quotes of the underlyings failed: {error}", "WARNING")
        else:
            for quote in response.quotes:
                listed += self._put_listing(underlying_contract, quote)
            for symbol in response.unmatched_symbols:
                self.write_log(
                    f"tradier.underlyings: Tradier does not know the symbol {symbol}", "WARNING"
                )
        for underlying in underlyings:
            try:
                expirations = await self._client.expirations(underlying)
            except (TradierUnavailableError, TradierResponseError) as error:
                self.write_log(
                    f"Tradier listing: expirations of {underlying} failed: {error}", "WARNING"
                )
                continue
            for expiration in expirations:
                try:
                    options = await self._client.chain(underlying, expiration.expiry, greeks=False)
                except (TradierUnavailableError, TradierResponseError) as error:
                    self.write_log(
                        f"Tradier listing: chain {underlying} "
                        f"{expiration.expiry.isoformat()} failed: {error}",
                        "WARNING",
                    )
                    continue
                for option in options:
                    listed += self._put_listing(option_contract, option)
        return listed

    def _put_listing(
        self,
        build: Callable[[Mapping[str, object]], ContractData],
        entry: Mapping[str, object],
    ) -> int:
        try:
            contract = build(entry)
        except TradierResponseError as error:
            self._warn_once(f"listing:{entry.get('symbol')}", f"Tradier listing skipped: {error}")
            return 0
        self.on_contract(contract)
        return 1

    # -- IO loop: active set --------------------------------------------------------------

    def _apply_active(self) -> None:
        # Reads the latest request, whichever callback runs it: the latest always wins.
        underlyings, chains = self._requested
        self._scheduler.set_active(underlyings, chains)
        self._option_symbols = {
            chain: symbols for chain, symbols in self._option_symbols.items() if chain in chains
        }
        self._update_stream_symbols()
        if self._changed is not None:
            self._changed.set()

    def _update_stream_symbols(self) -> None:
        stream = self._stream
        if stream is None:
            return
        symbols = set(self._scheduler.underlyings)
        for chain_symbols in self._option_symbols.values():
            symbols |= chain_symbols
        stream.set_symbols(symbols)
        # The stream starts once the token is known good and there is something to stream.
        if self._stream_task is None and self._token_accepted and symbols:
            self._stream_task = asyncio.ensure_future(self._run_stream(stream))

    # -- IO loop: polling -----------------------------------------------------------------

    async def _poll(self) -> None:
        assert self._budget is not None
        assert self._changed is not None
        slots = asyncio.Semaphore(MAX_IN_FLIGHT)
        while True:
            await slots.acquire()
            call = self._scheduler.next_call()
            self._warn_if_overloaded()
            if call is None:
                slots.release()
                self._changed.clear()
                await self._changed.wait()
                continue
            task = asyncio.ensure_future(self._perform(call, slots))
            self._calls.add(task)
            task.add_done_callback(self._calls.discard)

    def _calls_per_window(self) -> int:
        budget = self._budget
        return math.floor(WINDOW_S / budget.interval_s) if budget is not None else 1

    def _warn_if_overloaded(self) -> None:
        scheduler = self._scheduler
        if not scheduler.overloaded:
            self._warned.discard("overloaded")
            return
        if "overloaded" in self._warned:
            return
        self._warned.add("overloaded")
        calls = len(scheduler.chain_calls()) + scheduler.quote_calls()
        capacity = scheduler.chain_capacity()
        every_s = math.ceil(calls / capacity) * WINDOW_S
        budget = self._budget
        limit = budget.limit_per_minute if budget is not None else 0
        self.write_log(
            f"Tradier request limit too low for {len(scheduler.chains)} chains: one refresh "
            f"of each needs {calls} requests a minute, the budget allows "
            f"{scheduler.calls_per_window()} (limit {limit}/min); refreshing {capacity} chains "
            f"a minute round-robin, nearest expiry first, each about every {every_s:.0f} s",
            "WARNING",
        )

    async def _perform(self, call: _Call, slots: asyncio.Semaphore) -> None:
        try:
            if call.is_chain:
                await self._refresh_chain(call)
            else:
                await self._refresh_underlyings(call)
        except TradierAuthError as error:
            self._stop_for_auth(error)
        except (TradierUnavailableError, TradierResponseError) as error:
            self.write_log(f"Tradier {call.describe()} failed: {error}", "WARNING")
            self._scheduler.failed(call)
        except Exception:  # noqa: BLE001 - one bad response must not stop the feed
            self._log.opt(exception=True).error("Tradier {} failed", call.describe())
            self._scheduler.failed(call)
        finally:
            slots.release()

    async def _refresh_underlyings(self, call: _Call) -> None:
        assert self._client is not None
        response = await self._client.quotes(call.underlyings)
        received = self.clock.now()
        for quote in response.quotes:
            self._put_quote(quote, received)
        for symbol in response.unmatched_symbols:
            self._warn_once(f"unmatched:{symbol}", f"Tradier does not know the symbol {symbol}")

    async def _refresh_chain(self, call: _Call) -> None:
        assert self._client is not None
        assert call.expiry is not None
        options = await self._client.chain(call.underlying, call.expiry, greeks=True)
        received = self.clock.now()
        seen: dict[str, set[str]] = {root: set() for root in call.roots}
        for option in options:
            root = _root_of(option)
            if root not in seen:
                continue
            if self._put_quote(option, received):
                seen[root].add(str(option.get("symbol")))
                self._put_greeks(option, received)
        for root, symbols in seen.items():
            chain = ActiveChain(call.underlying, root, call.expiry)
            if not symbols:
                self._warn_once(
                    f"empty:{chain}",
                    f"Tradier's chain {call.underlying} {call.expiry.isoformat()} has no "
                    f"{root} options",
                )
            if chain in self._scheduler.chains:
                self._option_symbols[chain] = frozenset(symbols)
        self._update_stream_symbols()

    def _put_quote(self, quote: Mapping[str, object], received: datetime) -> bool:
        try:
            record = quote_record(quote, received)
        except TradierResponseError as error:
            self.write_log(f"Tradier quote skipped: {error}", "WARNING")
            return False
        self.on_quote(record)
        return True

    def _put_greeks(self, option: Mapping[str, object], received: datetime) -> None:
        try:
            greeks = provider_greeks(option)
        except TradierResponseError as error:
            self.write_log(f"Tradier Greeks skipped: {error}", "WARNING")
            return
        if greeks is None:
            return
        self.on_greeks(
            GreeksData(
                symbol=greeks.symbol,
                time=received,
                iv=greeks.smoothed_iv if greeks.smoothed_iv is not None else greeks.mid_iv,
                delta=greeks.delta,
                gamma=greeks.gamma,
                theta=greeks.theta,
                vega=greeks.vega,
                rho=greeks.rho,
                source=_SOURCE,
            )
        )

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            self.write_log(message, "WARNING")


def _root_of(option: Mapping[str, object]) -> str:
    """The option's root: ``root_symbol``, else the OCC symbol without its fixed tail."""
    root = option.get("root_symbol")
    if isinstance(root, str) and root:
        return root
    symbol = option.get("symbol")
    if isinstance(symbol, str) and len(symbol) > _OCC_TAIL:
        return symbol[:-_OCC_TAIL]
    return ""
