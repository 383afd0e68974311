"""Live option portfolios: PortfolioData > ChainData > OptionData, and UnderlyingData.

A :class:`PortfolioData` holds everything listed on one underlying: the underlying itself
(:class:`UnderlyingData`) and its option chains.  A :class:`ChainData` is one root (trading
class) and one expiry, so SPX and SPXW options expiring on the same day are two chains, and
an adjusted root such as AAPL1 is a chain of its own.  A chain keeps its calls and its puts
by strike; each :class:`OptionData` holds the listing it came from, its latest quote and its
latest Greeks.

These are mutable live objects: they live on the event thread, where the MarketDataEngine
builds them from contract events and injects quotes and Greeks through the explicit update
methods (:meth:`OptionData.update_quote`, :meth:`OptionData.update_greeks`,
:meth:`ChainData.apply_greeks`).  They are never put on the event bus and never touched from
another thread.

Conventions:

* Prices are per unit of the underlying (per share), as in :mod:`otrade.objects`.
* ``iv`` is a decimal fraction (0.20 is 20 %); ``delta`` and ``gamma`` are per unit of the
  underlying, ``theta`` per calendar day and ``vega`` per 1 volatility point (0.01 of iv),
  all per unit of the underlying (multiply by the multiplier for a contract).
* A value nobody has set is ``None`` on the objects and ``NaN`` in the numpy arrays;
  ``NaN`` written through the update methods is stored as ``None``.
* Times are timezone-aware datetimes, normally ``clock.now()`` (UTC).  Days are counted in
  New York, where US options expire.

Selection helpers and analytics are pure reads.  They return ``None`` when the data they
need is missing (no quotes, no stored delta) and raise ``ValueError`` naming the argument
when an argument is out of range.
"""

from __future__ import annotations

import bisect
import functools
import math
import warnings
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from datetime import time as time_of_day
from enum import StrEnum
from types import MappingProxyType
from typing import Literal, NamedTuple, TypeAlias
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from otrade.constants import ExpiryType, OptionRight, Product
from otrade.objects import ContractData

__all__ = [
    "CALENDAR_NAME",
    "NEW_YORK",
    "ChainData",
    "ChainGreekArrays",
    "ChainQuoteArrays",
    "GreeksSource",
    "OptionData",
    "PortfolioData",
    "Settlement",
    "TermStructurePoint",
    "UnderlyingData",
    "chain_key",
    "is_trading_day",
    "load_exchange_calendar",
]

NEW_YORK = ZoneInfo("America/New_York")
"""The time zone US options expire in; days to expiry are counted in it."""

CALENDAR_NAME = "XNYS"
"""The exchange_calendars calendar whose sessions count as trading days."""

AM_SETTLEMENT_TIME = time_of_day(9, 30)
"""New York time of the morning settlement of AM-settled options (the opening prints)."""

PM_SETTLEMENT_TIME = time_of_day(16, 0)
"""New York time of the close, used for PM expiries on days the calendar has no session."""

SECONDS_PER_YEAR = 365.0 * 24.0 * 3600.0
"""ACT/365: the year used by :meth:`ChainData.time_to_expiry`."""

# The calendar covers these sessions; it is built once (about a quarter of a second).
_CALENDAR_START = date(2000, 1, 1)
_CALENDAR_END = date(2080, 12, 31)

GreeksSource: TypeAlias = Literal["local", "provider"]
"""Where Greeks came from, ``"local"`` (otrade's pricing library) or ``"provider"``."""

_GREEKS_SOURCES = frozenset(("local", "provider"))

FloatArray: TypeAlias = npt.NDArray[np.float64]
BoolArray: TypeAlias = npt.NDArray[np.bool_]


class Settlement(StrEnum):
    """When an expiry settles: at the morning open (AM) or at the close (PM)."""

    AM = "am"
    PM = "pm"


class ChainQuoteArrays(NamedTuple):
    """A chain's strikes and quotes as numpy arrays, in :attr:`ChainData.options` order.

    Missing prices are ``NaN``.
    """

    #: Strike of each option.
    strikes: FloatArray
    #: True for calls, False for puts.
    is_call: BoolArray
    #: Bid prices.
    bids: FloatArray
    #: Ask prices.
    asks: FloatArray
    #: Mid prices.
    mids: FloatArray
    #: Last trade prices.
    lasts: FloatArray


class ChainGreekArrays(NamedTuple):
    """A chain's stored Greeks as numpy arrays, in :attr:`ChainData.options` order.

    Missing values are ``NaN``; units as in :class:`OptionData`.
    """

    #: Implied volatility, decimal fraction.
    iv: FloatArray
    #: Delta per unit of the underlying.
    delta: FloatArray
    #: Gamma per unit of the underlying.
    gamma: FloatArray
    #: Theta per calendar day.
    theta: FloatArray
    #: Vega per 1 volatility point.
    vega: FloatArray


class TermStructurePoint(NamedTuple):
    """One chain's point on the ATM volatility term structure."""

    #: The chain's expiry date.
    expiry: date
    #: Calendar days to expiry in New York (0 on the expiry day).
    days_to_expiry: int
    #: The chain's ATM implied volatility (:meth:`ChainData.atm_iv`).
    atm_iv: float
    #: The chain's root, which tells SPX from SPXW on the same date.
    root: str


def chain_key(root: str, expiry: date) -> str:
    """The key of the chain of ``root`` expiring on ``expiry``: ``"SPXW 2026-12-18"``.

    Args:
        root: The options' root (trading class).
        expiry: The expiry date.

    Returns:
        The root, one space and the ISO expiry date.
    """
    return f"{root} {expiry.isoformat()}"


def load_exchange_calendar() -> None:
    """Build the cached exchange calendar now instead of on first use.

    The calendar (exchange_calendars ``XNYS``, sessions 2000 to 2080) is built once per
    process, the first time a trading-day count or a PM expiry time is needed; building it
    imports pandas and takes well under a second.  An engine calls this at start so that
    no event waits for it.
    """
    _session_table()


def is_trading_day(day: date) -> bool:
    """True when the New York Stock Exchange has a session on ``day`` (XNYS calendar).

    Raises:
        ValueError: ``day`` is outside the calendar (2000 to 2080).
    """
    return _session_table().close_time(day) is not None


# --- values ------------------------------------------------------------------------------


def _number(value: float | None) -> float | None:
    """``value``, with NaN turned into None."""
    return None if value is None or math.isnan(value) else value


def _mid(bid: float | None, ask: float | None) -> float | None:
    """The mid of a two-sided, uncrossed quote (the rule of :attr:`QuoteData.mid`)."""
    if bid is None or ask is None or ask < bid or bid < 0:
        return None
    return (bid + ask) / 2


def _check_time(name: str, value: datetime) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value.isoformat()}")


def _new_york_date(now: datetime) -> date:
    _check_time("now", now)
    return now.astimezone(NEW_YORK).date()


def _nearest_index(values: tuple[float, ...] | list[float], target: float) -> int:
    """Index of the value nearest ``target`` in sorted, non-empty ``values``; ties go low."""
    index = bisect.bisect_left(values, target)
    if index == 0:
        return 0
    if index == len(values):
        return index - 1
    below, above = values[index - 1], values[index]
    return index - 1 if target - below <= above - target else index


def _interpolate(points: list[tuple[float, float]], target: float) -> float | None:
    """Linear interpolation of sorted ``(x, y)`` points at ``target``; None outside them."""
    if not points or target < points[0][0] or target > points[-1][0]:
        return None
    index = bisect.bisect_left(points, (target, -math.inf))
    x_above, y_above = points[index]
    if x_above == target or index == 0:
        return y_above
    x_below, y_below = points[index - 1]
    weight = (target - x_below) / (x_above - x_below)
    return y_below + weight * (y_above - y_below)


# --- calendar ----------------------------------------------------------------------------


class _SessionTable:
    """Sessions and closes of the exchange calendar, as plain Python for fast lookups."""

    __slots__ = ("close_seconds", "first", "last", "session_ordinals")

    def __init__(self, session_ordinals: list[int], close_seconds: list[int]) -> None:
        self.session_ordinals = session_ordinals
        self.close_seconds = dict(zip(session_ordinals, close_seconds, strict=True))
        self.first = _CALENDAR_START
        self.last = _CALENDAR_END

    def _ordinal(self, day: date) -> int:
        if not self.first <= day <= self.last:
            raise ValueError(
                f"date {day.isoformat()} is outside the {CALENDAR_NAME} calendar "
                f"({self.first.isoformat()} to {self.last.isoformat()})"
            )
        return day.toordinal()

    def sessions_through(self, day: date) -> int:
        """Number of sessions on or before ``day``, counted from the calendar's start."""
        return bisect.bisect_right(self.session_ordinals, self._ordinal(day))

    def close_time(self, day: date) -> datetime | None:
        """The close of the session on ``day`` (UTC), or None when ``day`` has none."""
        seconds = self.close_seconds.get(self._ordinal(day))
        return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


@functools.cache
def _session_table() -> _SessionTable:
    # Imported here: exchange_calendars imports pandas, which otrade does not need otherwise.
    import exchange_calendars  # type: ignore[import-untyped]  # noqa: PLC0415

    with warnings.catch_warnings():
        # exchange_calendars 4.x reads tz-aware Series.values, which pandas 3 deprecates;
        # the warning is theirs, not something a user of otrade can act on.
        warnings.simplefilter("ignore", DeprecationWarning)
        calendar = exchange_calendars.get_calendar(
            CALENDAR_NAME, start=_CALENDAR_START.isoformat(), end=_CALENDAR_END.isoformat()
        )
    days = np.asarray(calendar.sessions.values).astype("datetime64[D]").astype(np.int64)
    closes_utc = calendar.closes.dt.tz_convert(None).to_numpy()
    closes = np.asarray(closes_utc).astype("datetime64[s]").astype(np.int64)
    epoch_ordinal = date(1970, 1, 1).toordinal()
    ordinals = [int(day) + epoch_ordinal for day in days.tolist()]
    return _SessionTable(ordinals, [int(close) for close in closes.tolist()])


# --- live objects ------------------------------------------------------------------------


def _is_stale(quote_time: datetime | None, now: datetime, max_age_s: float) -> bool:
    return quote_time is None or (now - quote_time).total_seconds() > max_age_s


class _Quoted:
    """The quote state and its updates, shared by :class:`UnderlyingData` and OptionData."""

    __slots__ = ("ask", "bid", "last", "mid", "quote_time", "stale")

    bid: float | None
    ask: float | None
    last: float | None
    mid: float | None
    quote_time: datetime | None
    stale: bool

    def mark_stale(self, now: datetime, max_age_s: float) -> bool:
        """Set and return :attr:`stale`: no quote yet, or one older than ``max_age_s``."""
        self.stale = _is_stale(self.quote_time, now, max_age_s)
        return self.stale

    def update_quote(
        self, bid: float | None, ask: float | None, last: float | None, time: datetime
    ) -> None:
        """Store the latest quote, recompute the mid and clear :attr:`stale`.

        A quote is fresh when it arrives; the MarketDataEngine's timer marks it stale again
        once it is older than ``marketdata.stale_after_s``.

        Args:
            bid: Best bid, None (or NaN) when there is none.
            ask: Best ask, None (or NaN) when there is none.
            last: Last trade price, None (or NaN) when unknown.
            time: When the source stamped the quote; timezone-aware.

        Raises:
            ValueError: ``time`` is naive.
        """
        _check_time("time", time)
        self.bid = _number(bid)
        self.ask = _number(ask)
        self.last = _number(last)
        self.mid = _mid(self.bid, self.ask)
        self.quote_time = time
        self.stale = False


class UnderlyingData(_Quoted):
    """The live state of a portfolio's underlying: its contract and latest quote.

    Args:
        symbol: The underlying's symbol.
        contract: Its contract, when already known.

    Attributes:
        symbol: The underlying's symbol.
        contract: Its contract, None until the contract event arrives.
        bid: Latest bid, None until quoted.
        ask: Latest ask, None until quoted.
        last: Latest trade price, None until quoted.
        mid: Mid of bid and ask, None unless both are there and not crossed.
        quote_time: When the latest quote was stamped, None until quoted.
        stale: True until quoted, and when the latest quote is older than the configured
            age (see :meth:`mark_stale`).
    """

    __slots__ = ("contract", "symbol")

    def __init__(self, symbol: str, contract: ContractData | None = None) -> None:
        self.symbol = symbol
        self.contract = contract
        self.bid: float | None = None
        self.ask: float | None = None
        self.last: float | None = None
        self.mid: float | None = None
        self.quote_time: datetime | None = None
        self.stale = True

    def __repr__(self) -> str:
        return f"UnderlyingData({self.symbol!r}, mid={self.mid!r}, last={self.last!r})"

    @property
    def price(self) -> float | None:
        """The mid when the quote is two-sided, else the last price (indices have no bid/ask)."""
        return self.mid if self.mid is not None else self.last


class OptionData(_Quoted):
    """The live state of one listed option: its listing, latest quote and latest Greeks.

    Built by :meth:`ChainData.add_contract` (normally through
    :meth:`PortfolioData.add_contract`).

    Args:
        contract: The option listing.
        chain: The chain it belongs to.
        right: The listing's right (passed checked, so it is never None here).
        strike: The listing's strike (passed checked).

    Attributes:
        contract: The listing it was built from.
        chain: The chain it belongs to.
        symbol: Canonical option symbol.
        right: Call or put.
        strike: Strike price.
        expiry: Expiry date.
        multiplier: Units of the underlying per contract.
        bid: Latest bid, None until quoted.
        ask: Latest ask, None until quoted.
        last: Latest trade price, None until quoted.
        mid: Mid of bid and ask, None unless both are there and not crossed.
        quote_time: When the latest quote was stamped, None until quoted.
        iv: Implied volatility as a decimal fraction, None until set.
        delta: Delta per unit of the underlying, None until set.
        gamma: Gamma per unit of the underlying, None until set.
        theta: Theta per calendar day, per unit of the underlying, None until set.
        vega: Vega per 1 volatility point, per unit of the underlying, None until set.
        greeks_source: ``"local"`` or ``"provider"``, None until Greeks are set.
        greeks_time: When the Greeks were computed or sent, None until set.
        provider_iv: The provider's implied volatility when the Greeks policy keeps it
            beside the local one, else None.
        greeks_diverged: True when the local and provider IVs differ by more than the
            configured threshold.
        stale: True until quoted, and when the latest quote is older than the configured
            age (see :meth:`mark_stale`).
    """

    __slots__ = (
        "chain",
        "contract",
        "delta",
        "expiry",
        "gamma",
        "greeks_diverged",
        "greeks_source",
        "greeks_time",
        "iv",
        "multiplier",
        "provider_iv",
        "right",
        "strike",
        "symbol",
        "theta",
        "vega",
    )

    def __init__(
        self, contract: ContractData, chain: ChainData, right: OptionRight, strike: float
    ) -> None:
        self.contract = contract
        self.chain = chain
        self.symbol = contract.symbol
        self.right = right
        self.strike = strike
        self.expiry = chain.expiry
        self.multiplier = contract.multiplier
        self.bid: float | None = None
        self.ask: float | None = None
        self.last: float | None = None
        self.mid: float | None = None
        self.quote_time: datetime | None = None
        self.iv: float | None = None
        self.delta: float | None = None
        self.gamma: float | None = None
        self.theta: float | None = None
        self.vega: float | None = None
        self.greeks_source: GreeksSource | None = None
        self.greeks_time: datetime | None = None
        self.provider_iv: float | None = None
        self.greeks_diverged = False
        self.stale = True

    def __repr__(self) -> str:
        return f"OptionData({self.symbol!r}, mid={self.mid!r}, delta={self.delta!r})"

    @property
    def is_call(self) -> bool:
        """True for calls, False for puts."""
        return self.right is OptionRight.CALL

    def update_greeks(
        self,
        iv: float | None,
        delta: float | None,
        gamma: float | None,
        theta: float | None,
        vega: float | None,
        *,
        source: GreeksSource,
        time: datetime,
    ) -> None:
        """Store the latest implied volatility and Greeks (units in the class docstring).

        Args:
            iv: Implied volatility as a decimal fraction; None or NaN when unknown.
            delta: Delta; None or NaN when unknown.
            gamma: Gamma; None or NaN when unknown.
            theta: Theta per calendar day; None or NaN when unknown.
            vega: Vega per 1 volatility point; None or NaN when unknown.
            source: ``"local"`` or ``"provider"``.
            time: When they were computed or sent; timezone-aware.

        Raises:
            ValueError: ``source`` is not one of the two names, or ``time`` is naive.
        """
        if source not in _GREEKS_SOURCES:
            raise ValueError(f"source must be 'local' or 'provider', got {source!r}")
        _check_time("time", time)
        self.iv = _number(iv)
        self.delta = _number(delta)
        self.gamma = _number(gamma)
        self.theta = _number(theta)
        self.vega = _number(vega)
        self.greeks_source = source
        self.greeks_time = time


class ChainData:
    """The options of one root expiring on one date, calls and puts by strike.

    Strikes are sorted lazily: adding an option only marks the chain as changed, and the
    first read of :attr:`strikes` or :attr:`options` sorts once.

    Args:
        root: The options' root (trading class), e.g. ``"SPXW"``.
        expiry: The expiry date.
        underlying_symbol: The underlying's symbol, e.g. ``"SPX"``.
        last_trade_date: The last trading day when the listing gives it.
        expiry_type: Weekly, monthly or quarterly when known.
        underlying: The portfolio's underlying, whose price the selection helpers use
            when no price is passed to them.

    Attributes:
        root: The options' root.
        expiry: The expiry date.
        key: The chain key, :func:`chain_key` of root and expiry.
        underlying_symbol: The underlying's symbol.
        last_trade_date: The last trading day, None when no listing gave it.
        expiry_type: The listing cycle, taken from the first listing that knows it.
        settlement: AM when the last trading day is before the expiry date (SPX-style
            monthly index options, which settle on the next morning's opening prints),
            PM otherwise.
        underlying: The portfolio's underlying, or None for a chain on its own.
    """

    __slots__ = (
        "_calls",
        "_dirty",
        "_expiry_time",
        "_options",
        "_puts",
        "_strikes",
        "expiry",
        "expiry_type",
        "key",
        "last_trade_date",
        "root",
        "settlement",
        "underlying",
        "underlying_symbol",
    )

    def __init__(
        self,
        root: str,
        expiry: date,
        underlying_symbol: str,
        *,
        last_trade_date: date | None = None,
        expiry_type: ExpiryType = ExpiryType.UNKNOWN,
        underlying: UnderlyingData | None = None,
    ) -> None:
        self.root = root
        self.expiry = expiry
        self.key = chain_key(root, expiry)
        self.underlying_symbol = underlying_symbol
        self.last_trade_date = last_trade_date
        self.expiry_type = expiry_type
        self.settlement = _settlement(expiry, last_trade_date)
        self.underlying = underlying
        self._calls: dict[float, OptionData] = {}
        self._puts: dict[float, OptionData] = {}
        self._dirty = False
        self._strikes: tuple[float, ...] = ()
        self._options: tuple[OptionData, ...] = ()
        self._expiry_time: datetime | None = None

    @classmethod
    def from_contract(
        cls, contract: ContractData, underlying: UnderlyingData | None = None
    ) -> ChainData:
        """An empty chain for the root and expiry of an option ``contract``.

        Args:
            contract: An option listing.
            underlying: The portfolio's underlying, if any.

        Returns:
            The chain; the contract itself is not added.

        Raises:
            ValueError: ``contract`` is not an option.
        """
        if contract.product is not Product.OPTION or contract.expiry is None:
            raise ValueError(f"contract {contract.symbol!r} is not an option")
        return cls(
            contract.root,
            contract.expiry,
            contract.underlying_symbol,
            last_trade_date=contract.last_trade_date,
            expiry_type=contract.expiry_type,
            underlying=underlying,
        )

    def __repr__(self) -> str:
        return f"ChainData({self.key!r}, options={len(self)}, settlement={self.settlement})"

    def __len__(self) -> int:
        return len(self._calls) + len(self._puts)

    # --- building ------------------------------------------------------------------------

    def add_contract(self, contract: ContractData) -> OptionData:
        """Add an option listing, or refresh the listing of an option already here.

        Args:
            contract: An option of this chain's root and expiry.

        Returns:
            The option's live object (the existing one, with its quote and Greeks kept, when
            the symbol is already in the chain).

        Raises:
            ValueError: ``contract`` is not an option of this root and expiry, or another
                symbol already holds its right and strike.
        """
        strike, right = contract.strike, contract.right
        if (
            strike is None
            or right is None
            or contract.root != self.root
            or contract.expiry != self.expiry
        ):
            raise ValueError(f"contract {contract.symbol!r} is not an option of chain {self.key!r}")
        by_strike = self._calls if right is OptionRight.CALL else self._puts
        existing = by_strike.get(strike)
        if existing is not None:
            if existing.symbol != contract.symbol:
                raise ValueError(
                    f"contract {contract.symbol!r}: {right.name.lower()} {strike} of chain "
                    f"{self.key!r} is already {existing.symbol!r}"
                )
            existing.contract = contract
            existing.multiplier = contract.multiplier
            return existing
        option = OptionData(contract, self, right, strike)
        by_strike[strike] = option
        self._dirty = True
        if self.expiry_type is ExpiryType.UNKNOWN:
            self.expiry_type = contract.expiry_type
        if self.last_trade_date is None and contract.last_trade_date is not None:
            self.last_trade_date = contract.last_trade_date
            self.settlement = _settlement(self.expiry, self.last_trade_date)
            self._expiry_time = None
        return option

    # --- reading -------------------------------------------------------------------------

    @property
    def calls(self) -> Mapping[float, OptionData]:
        """Calls by strike (read-only view)."""
        return MappingProxyType(self._calls)

    @property
    def puts(self) -> Mapping[float, OptionData]:
        """Puts by strike (read-only view)."""
        return MappingProxyType(self._puts)

    @property
    def strikes(self) -> tuple[float, ...]:
        """Every strike with a call or a put, ascending."""
        if self._dirty:
            self._sort()
        return self._strikes

    @property
    def options(self) -> tuple[OptionData, ...]:
        """Every option, by ascending strike and the call before the put at a strike.

        This is the order of :meth:`quote_arrays`, :meth:`greek_arrays` and
        :meth:`apply_greeks`.
        """
        if self._dirty:
            self._sort()
        return self._options

    def _sort(self) -> None:
        strikes = tuple(sorted(self._calls.keys() | self._puts.keys()))
        options: list[OptionData] = []
        for strike in strikes:
            call = self._calls.get(strike)
            if call is not None:
                options.append(call)
            put = self._puts.get(strike)
            if put is not None:
                options.append(put)
        self._strikes = strikes
        self._options = tuple(options)
        self._dirty = False

    def get_option(self, right: OptionRight, strike: float) -> OptionData | None:
        """The call or put at ``strike``, or None when the chain has none."""
        by_strike = self._calls if right is OptionRight.CALL else self._puts
        return by_strike.get(strike)

    # --- time ----------------------------------------------------------------------------

    @property
    def expiry_time(self) -> datetime:
        """The moment the options settle, timezone-aware UTC.

        PM-settled: the close of the expiry date's session on the exchange calendar (16:00
        New York, 13:00 on half days); 16:00 New York when the calendar has no session that
        day.  AM-settled: 09:30 New York on the expiry date, when the opening prints that
        make the settlement value start.
        """
        if self._expiry_time is None:
            self._expiry_time = _expiry_time(self.expiry, self.settlement)
        return self._expiry_time

    def days_to_expiry(self, now: datetime) -> int:
        """Calendar days from ``now``'s New York date to the expiry date.

        0 on the expiry day (0DTE), negative once the expiry date has passed.

        Args:
            now: The current time (``clock.now()``); timezone-aware.

        Raises:
            ValueError: ``now`` is naive.
        """
        return (self.expiry - _new_york_date(now)).days

    def trading_days_to_expiry(self, now: datetime) -> int:
        """Exchange sessions after ``now``'s New York date, up to and including the expiry.

        Today is excluded and the expiry date included: 0 on the expiry day, 1 on the
        session before it, holidays and weekends not counted.  Negative once the expiry date
        has passed (minus the sessions after the expiry, up to and including today).

        Args:
            now: The current time; timezone-aware.

        Raises:
            ValueError: ``now`` is naive, or a date is outside the calendar (2000-2080).
        """
        table = _session_table()
        today = _new_york_date(now)
        return table.sessions_through(self.expiry) - table.sessions_through(today)

    def time_to_expiry(self, now: datetime) -> float:
        """Years (ACT/365) from ``now`` to :attr:`expiry_time`; 0.0 once it has passed.

        Args:
            now: The current time; timezone-aware.

        Raises:
            ValueError: ``now`` is naive.
        """
        _check_time("now", now)
        seconds = (self.expiry_time - now).total_seconds()
        return seconds / SECONDS_PER_YEAR if seconds > 0 else 0.0

    def is_expired(self, now: datetime) -> bool:
        """True once ``now`` is at or after :attr:`expiry_time`.

        Raises:
            ValueError: ``now`` is naive.
        """
        _check_time("now", now)
        return now >= self.expiry_time

    # --- selection -----------------------------------------------------------------------

    def parity_forward(self, rate: float = 0.0, now: datetime | None = None) -> float | None:
        """The forward implied by put-call parity, F = K + (C - P) * exp(r * T).

        K is the strike where both the call and the put have a mid and ``|C - P|`` is the
        smallest (the ATM strike of the quotes); ties go to the lower strike.

        Args:
            rate: Continuously compounded interest rate, decimal fraction per year.
            now: The current time; needed for T when ``rate`` is not 0.

        Returns:
            The forward, or None when no strike has both mids.

        Raises:
            ValueError: ``rate`` is not finite, or ``now`` is missing while ``rate`` is not 0.
        """
        growth = self._growth(rate, now)
        best: tuple[float, float] | None = None
        for strike in self.strikes:
            call, put = self._calls.get(strike), self._puts.get(strike)
            if call is None or put is None or call.mid is None or put.mid is None:
                continue
            difference = call.mid - put.mid
            if best is None or abs(difference) < abs(best[1]):
                best = (strike, difference)
        if best is None:
            return None
        strike, difference = best
        return strike + difference * growth

    def forward(
        self,
        underlying_price: float | None = None,
        rate: float = 0.0,
        now: datetime | None = None,
    ) -> float | None:
        """The parity forward (:meth:`parity_forward`), else the underlying price.

        Args:
            underlying_price: The fallback price; defaults to :attr:`UnderlyingData.price`
                of :attr:`underlying`.
            rate: As in :meth:`parity_forward`.
            now: As in :meth:`parity_forward`.

        Returns:
            The forward, or None when neither parity nor an underlying price is available.

        Raises:
            ValueError: As in :meth:`parity_forward`, or ``underlying_price`` is not > 0.
        """
        fallback = self._underlying_price(underlying_price)
        forward = self.parity_forward(rate, now)
        return fallback if forward is None else forward

    def nearest_strike(self, price: float) -> float | None:
        """The chain's strike nearest ``price`` (ties to the lower), None for an empty chain."""
        strikes = self.strikes
        if not strikes:
            return None
        return strikes[_nearest_index(strikes, price)]

    def atm_strike(
        self,
        underlying_price: float | None = None,
        rate: float = 0.0,
        now: datetime | None = None,
    ) -> float | None:
        """The strike nearest the forward (:meth:`forward`); ties go to the lower strike.

        Args:
            underlying_price: Fallback when no strike has both mids; defaults to the
                underlying's price.
            rate: As in :meth:`parity_forward`.
            now: As in :meth:`parity_forward`.

        Returns:
            The ATM strike, or None when the chain is empty or there is no forward.

        Raises:
            ValueError: As in :meth:`forward`.
        """
        forward = self.forward(underlying_price, rate, now)
        return None if forward is None else self.nearest_strike(forward)

    def strikes_around(self, center: float, count: int) -> list[float]:
        """``count`` consecutive strikes around the strike nearest ``center``.

        The nearest strike is always included; ``(count - 1) // 2`` strikes go below it and
        the rest above, shifted inward at the edges of the chain, so the result always
        holds ``min(count, len(strikes))`` strikes.

        Args:
            center: The price to centre on (a strike, a forward).
            count: How many strikes; at least 1.

        Returns:
            Ascending strikes; empty for an empty chain.

        Raises:
            ValueError: ``count`` is below 1.
        """
        if count < 1:
            raise ValueError(f"count must be >= 1, got {count!r}")
        strikes = self.strikes
        if not strikes:
            return []
        size = min(count, len(strikes))
        start = _nearest_index(strikes, center) - (size - 1) // 2
        start = max(0, min(start, len(strikes) - size))
        return list(strikes[start : start + size])

    def strikes_around_atm(
        self,
        count: int,
        underlying_price: float | None = None,
        rate: float = 0.0,
        now: datetime | None = None,
    ) -> list[float] | None:
        """``count`` consecutive strikes around :meth:`atm_strike` (see :meth:`strikes_around`).

        Returns:
            Ascending strikes, or None when there is no ATM strike.

        Raises:
            ValueError: ``count`` is below 1, or as in :meth:`forward`.
        """
        if count < 1:
            raise ValueError(f"count must be >= 1, got {count!r}")
        atm = self.atm_strike(underlying_price, rate, now)
        return None if atm is None else self.strikes_around(atm, count)

    def nearest_delta(
        self, target_delta: float, right: OptionRight | None = None
    ) -> OptionData | None:
        """The option whose stored delta is nearest ``target_delta``.

        Options without a stored delta are skipped.  With ``right`` None both calls and puts
        are searched, so a negative target finds a put and a positive one a call.  Ties go
        to the lower strike, then to the call.

        Args:
            target_delta: The delta to look for, between -1 and 1.
            right: Only calls or only puts; None for both.

        Returns:
            The option, or None when no option of that right has a delta.

        Raises:
            ValueError: ``target_delta`` is outside [-1, 1].
        """
        if not -1.0 <= target_delta <= 1.0:
            raise ValueError(f"target_delta must be between -1 and 1, got {target_delta!r}")
        best: OptionData | None = None
        best_distance = math.inf
        for option in self.options:
            if option.delta is None or (right is not None and option.right is not right):
                continue
            distance = abs(option.delta - target_delta)
            if distance < best_distance:
                best, best_distance = option, distance
        return best

    def by_moneyness(
        self, moneyness: float, right: OptionRight, underlying_price: float | None = None
    ) -> OptionData | None:
        """The option of ``right`` whose strike is nearest ``moneyness * underlying_price``.

        Moneyness is K / S: 1.0 is at the money, 1.05 a strike 5 % above the underlying.

        Args:
            moneyness: Target strike over underlying price; > 0.
            right: Call or put.
            underlying_price: S; defaults to the underlying's price.

        Returns:
            The option (ties to the lower strike), or None without a price or options.

        Raises:
            ValueError: ``moneyness`` or ``underlying_price`` is not > 0.
        """
        if not moneyness > 0:
            raise ValueError(f"moneyness must be > 0, got {moneyness!r}")
        price = self._underlying_price(underlying_price)
        if price is None:
            return None
        return self._nearest_option(right, moneyness * price)

    def by_percent_otm(
        self, otm_pct: float, right: OptionRight, underlying_price: float | None = None
    ) -> OptionData | None:
        """The option of ``right`` whose strike is nearest ``otm_pct`` percent out of the money.

        Calls: K = S * (1 + otm_pct / 100); puts: K = S * (1 - otm_pct / 100).  A negative
        ``otm_pct`` asks for an in-the-money strike.

        Args:
            otm_pct: Percent out of the money (5.0 is 5 %), between -100 and 100 exclusive.
            right: Call or put.
            underlying_price: S; defaults to the underlying's price.

        Returns:
            The option (ties to the lower strike), or None without a price or options.

        Raises:
            ValueError: ``otm_pct`` is out of range or ``underlying_price`` is not > 0.
        """
        if not -100.0 < otm_pct < 100.0:
            raise ValueError(f"otm_pct must be between -100 and 100, got {otm_pct!r}")
        price = self._underlying_price(underlying_price)
        if price is None:
            return None
        sign = 1.0 if right is OptionRight.CALL else -1.0
        return self._nearest_option(right, price * (1.0 + sign * otm_pct / 100.0))

    def by_premium(self, premium: float, right: OptionRight) -> OptionData | None:
        """The option of ``right`` whose mid is nearest ``premium`` (ties to the lower strike).

        Args:
            premium: Target mid price per unit of the underlying; >= 0.
            right: Call or put.

        Returns:
            The option, or None when no option of that right has a mid.

        Raises:
            ValueError: ``premium`` is negative.
        """
        if not premium >= 0:
            raise ValueError(f"premium must be >= 0, got {premium!r}")
        best: OptionData | None = None
        best_distance = math.inf
        for option in self.options:
            if option.right is not right or option.mid is None:
                continue
            distance = abs(option.mid - premium)
            if distance < best_distance:
                best, best_distance = option, distance
        return best

    # --- analytics -----------------------------------------------------------------------

    def iv_at_delta(self, delta: float) -> float | None:
        """Implied volatility at a delta, interpolated linearly in delta.

        A positive ``delta`` reads the calls, a negative one the puts; only options with
        both a stored delta and a stored iv count.

        Args:
            delta: Target delta, between -1 and 1 and not 0 (0.25 for a 25-delta call,
                -0.25 for a 25-delta put).

        Returns:
            The iv, or None when ``delta`` is outside the stored deltas of that right.

        Raises:
            ValueError: ``delta`` is 0 or outside (-1, 1).
        """
        if not -1.0 < delta < 1.0 or delta == 0:
            raise ValueError(f"delta must be in (-1, 0) or (0, 1), got {delta!r}")
        by_strike = self._calls if delta > 0 else self._puts
        points = sorted(
            (option.delta, option.iv)
            for option in by_strike.values()
            if option.delta is not None and option.iv is not None
        )
        return _interpolate(points, delta)

    def atm_iv(
        self,
        underlying_price: float | None = None,
        rate: float = 0.0,
        now: datetime | None = None,
    ) -> float | None:
        """At-the-money implied volatility, interpolated at the forward.

        Each strike's iv is the mean of its call and put iv (or the one of them that is
        stored); the ATM iv interpolates linearly in strike between the two strikes around
        the forward (:meth:`forward`), or is that strike's iv when the forward is a strike.

        Args:
            underlying_price: Fallback for the forward; defaults to the underlying's price.
            rate: As in :meth:`parity_forward`.
            now: As in :meth:`parity_forward`.

        Returns:
            The iv, or None without a forward or without ivs on both sides of it.

        Raises:
            ValueError: As in :meth:`forward`.
        """
        forward = self.forward(underlying_price, rate, now)
        if forward is None:
            return None
        points: list[tuple[float, float]] = []
        for strike in self.strikes:
            ivs = [
                option.iv
                for option in (self._calls.get(strike), self._puts.get(strike))
                if option is not None and option.iv is not None
            ]
            if ivs:
                points.append((strike, sum(ivs) / len(ivs)))
        return _interpolate(points, forward)

    def skew(self, delta: float = 0.25) -> float | None:
        """Put iv at ``-delta`` minus call iv at ``+delta`` (:meth:`iv_at_delta`).

        Args:
            delta: The wing delta, in (0, 1); 0.25 for the 25-delta skew.

        Returns:
            The skew in iv units (0.02 is 2 vol points), or None when a wing is missing.

        Raises:
            ValueError: ``delta`` is outside (0, 1).
        """
        wings = self._wings(delta)
        return None if wings is None else wings[1] - wings[0]

    def risk_reversal(self, delta: float = 0.25) -> float | None:
        """Call iv at ``+delta`` minus put iv at ``-delta`` (minus :meth:`skew`).

        Args:
            delta: The wing delta, in (0, 1).

        Returns:
            The risk reversal in iv units, or None when a wing is missing.

        Raises:
            ValueError: ``delta`` is outside (0, 1).
        """
        wings = self._wings(delta)
        return None if wings is None else wings[0] - wings[1]

    def butterfly(
        self,
        delta: float = 0.25,
        underlying_price: float | None = None,
        rate: float = 0.0,
        now: datetime | None = None,
    ) -> float | None:
        """Mean of the call iv at ``+delta`` and put iv at ``-delta``, minus :meth:`atm_iv`.

        Args:
            delta: The wing delta, in (0, 1).
            underlying_price: As in :meth:`atm_iv`.
            rate: As in :meth:`atm_iv`.
            now: As in :meth:`atm_iv`.

        Returns:
            The butterfly in iv units, or None when a wing or the ATM iv is missing.

        Raises:
            ValueError: ``delta`` is outside (0, 1), or as in :meth:`forward`.
        """
        wings = self._wings(delta)
        if wings is None:
            return None
        atm = self.atm_iv(underlying_price, rate, now)
        return None if atm is None else (wings[0] + wings[1]) / 2 - atm

    # --- arrays --------------------------------------------------------------------------

    def quote_arrays(self) -> ChainQuoteArrays:
        """Strikes, rights and quotes of every option, in :attr:`options` order."""
        options = self.options
        return ChainQuoteArrays(
            strikes=np.array([option.strike for option in options], dtype=np.float64),
            is_call=np.array([option.right is OptionRight.CALL for option in options], bool),
            bids=np.array([option.bid for option in options], dtype=np.float64),
            asks=np.array([option.ask for option in options], dtype=np.float64),
            mids=np.array([option.mid for option in options], dtype=np.float64),
            lasts=np.array([option.last for option in options], dtype=np.float64),
        )

    def greek_arrays(self) -> ChainGreekArrays:
        """Stored iv and Greeks of every option, in :attr:`options` order (NaN when unset)."""
        options = self.options
        return ChainGreekArrays(
            iv=np.array([option.iv for option in options], dtype=np.float64),
            delta=np.array([option.delta for option in options], dtype=np.float64),
            gamma=np.array([option.gamma for option in options], dtype=np.float64),
            theta=np.array([option.theta for option in options], dtype=np.float64),
            vega=np.array([option.vega for option in options], dtype=np.float64),
        )

    def apply_greeks(
        self,
        iv: npt.ArrayLike,
        delta: npt.ArrayLike,
        gamma: npt.ArrayLike,
        theta: npt.ArrayLike,
        vega: npt.ArrayLike,
        *,
        source: GreeksSource,
        time: datetime,
    ) -> None:
        """Write iv and Greeks for every option at once, in :attr:`options` order.

        Each array has one value per option, in the order of :meth:`quote_arrays` taken
        after the last contract was added; NaN stores None.  Units as in
        :class:`OptionData`.

        Args:
            iv: Implied volatilities (decimal fractions).
            delta: Deltas.
            gamma: Gammas.
            theta: Thetas per calendar day.
            vega: Vegas per 1 volatility point.
            source: ``"local"`` or ``"provider"``.
            time: When they were computed; timezone-aware.

        Raises:
            ValueError: An array's length is not the number of options (the chain grew
                since the arrays were taken), ``source`` is unknown or ``time`` is naive;
                nothing is written then.
        """
        if source not in _GREEKS_SOURCES:
            raise ValueError(f"source must be 'local' or 'provider', got {source!r}")
        _check_time("time", time)
        options = self.options
        columns: list[list[float]] = []
        for name, values in (
            ("iv", iv),
            ("delta", delta),
            ("gamma", gamma),
            ("theta", theta),
            ("vega", vega),
        ):
            column = np.asarray(values, dtype=np.float64).ravel()
            if column.shape[0] != len(options):
                raise ValueError(
                    f"{name} has {column.shape[0]} values, chain {self.key!r} has "
                    f"{len(options)} options"
                )
            columns.append(column.tolist())
        iv_values, delta_values, gamma_values, theta_values, vega_values = columns
        for index, option in enumerate(options):
            option.iv = _number(iv_values[index])
            option.delta = _number(delta_values[index])
            option.gamma = _number(gamma_values[index])
            option.theta = _number(theta_values[index])
            option.vega = _number(vega_values[index])
            option.greeks_source = source
            option.greeks_time = time

    # --- helpers -------------------------------------------------------------------------

    def _growth(self, rate: float, now: datetime | None) -> float:
        if not math.isfinite(rate):
            raise ValueError(f"rate must be a finite number, got {rate!r}")
        if rate == 0:
            return 1.0
        if now is None:
            raise ValueError("now is required when rate is not 0 (for the time to expiry)")
        return math.exp(rate * self.time_to_expiry(now))

    def _underlying_price(self, underlying_price: float | None) -> float | None:
        if underlying_price is not None:
            if not underlying_price > 0:
                raise ValueError(f"underlying_price must be > 0, got {underlying_price!r}")
            return underlying_price
        return None if self.underlying is None else self.underlying.price

    def _nearest_option(self, right: OptionRight, strike: float) -> OptionData | None:
        by_strike = self._calls if right is OptionRight.CALL else self._puts
        strikes = [value for value in self.strikes if value in by_strike]
        if not strikes:
            return None
        return by_strike[strikes[_nearest_index(strikes, strike)]]

    def _wings(self, delta: float) -> tuple[float, float] | None:
        """(call iv at +delta, put iv at -delta), or None when either is missing."""
        if not 0.0 < delta < 1.0:
            raise ValueError(f"delta must be between 0 and 1, got {delta!r}")
        call_iv = self.iv_at_delta(delta)
        put_iv = self.iv_at_delta(-delta)
        if call_iv is None or put_iv is None:
            return None
        return call_iv, put_iv


def _settlement(expiry: date, last_trade_date: date | None) -> Settlement:
    if last_trade_date is not None and last_trade_date < expiry:
        return Settlement.AM
    return Settlement.PM


def _expiry_time(expiry: date, settlement: Settlement) -> datetime:
    if settlement is Settlement.AM:
        return datetime.combine(expiry, AM_SETTLEMENT_TIME, NEW_YORK).astimezone(UTC)
    close = _session_table().close_time(expiry)
    if close is not None:
        return close
    return datetime.combine(expiry, PM_SETTLEMENT_TIME, NEW_YORK).astimezone(UTC)


class PortfolioData:
    """Everything listed on one underlying: the underlying and its option chains.

    Chains are keyed by :func:`chain_key` (``"SPXW 2026-12-18"``): one chain per root and
    expiry.

    Args:
        symbol: The underlying's symbol (``"SPX"`` holds both SPX and SPXW chains).

    Attributes:
        symbol: The underlying's symbol.
        underlying: The underlying's live object; it exists from the start and gets its
            contract when the underlying's own contract is added.
    """

    __slots__ = ("_by_root_expiry", "_chains", "_options", "_sorted_chains", "symbol", "underlying")

    def __init__(self, symbol: str) -> None:
        if not symbol:
            raise ValueError("symbol must not be empty")
        self.symbol = symbol
        self.underlying = UnderlyingData(symbol)
        self._chains: dict[str, ChainData] = {}
        self._by_root_expiry: dict[tuple[str, date | None], ChainData] = {}
        self._options: dict[str, OptionData] = {}
        self._sorted_chains: list[ChainData] | None = None

    def __repr__(self) -> str:
        return (
            f"PortfolioData({self.symbol!r}, chains={len(self._chains)}, "
            f"options={len(self._options)})"
        )

    # --- building ------------------------------------------------------------------------

    def add_contract(self, contract: ContractData) -> OptionData | UnderlyingData:
        """Route a listing: an option to its chain (created on first use), else the underlying.

        Adding an option again refreshes its listing and keeps its quote and Greeks.

        Args:
            contract: An option on this underlying, or the underlying's own contract.

        Returns:
            The option's or the underlying's live object.

        Raises:
            ValueError: The option's ``underlying_symbol`` or the contract's ``symbol`` is
                not this portfolio's, the contract is a combo, or the option's right and
                strike are taken by another symbol.
        """
        if contract.product is Product.OPTION:
            existing = self._options.get(contract.symbol)
            if existing is not None:
                return existing.chain.add_contract(contract)
            if contract.underlying_symbol != self.symbol:
                raise ValueError(
                    f"contract {contract.symbol!r}: underlying_symbol "
                    f"{contract.underlying_symbol!r} is not portfolio {self.symbol!r}"
                )
            chain = self._by_root_expiry.get((contract.root, contract.expiry))
            if chain is None:
                chain = self._create_chain(contract)
            option = chain.add_contract(contract)
            self._options[contract.symbol] = option
            return option
        if contract.product is Product.COMBO or contract.symbol != self.symbol:
            raise ValueError(
                f"contract {contract.symbol!r} ({contract.product.value}) is neither an "
                f"option on nor the underlying of portfolio {self.symbol!r}"
            )
        self.underlying.contract = contract
        return self.underlying

    def add_contracts(self, contracts: Iterable[ContractData]) -> int:
        """Add many listings (see :meth:`add_contract`).

        Returns:
            How many were added or refreshed.
        """
        count = 0
        for contract in contracts:
            self.add_contract(contract)
            count += 1
        return count

    def _create_chain(self, contract: ContractData) -> ChainData:
        chain = ChainData.from_contract(contract, self.underlying)
        self._chains[chain.key] = chain
        self._by_root_expiry[(chain.root, chain.expiry)] = chain
        self._sorted_chains = None
        return chain

    def remove_chain(self, key: str) -> ChainData | None:
        """Drop a chain (an expired one, say) and its options.

        Returns:
            The removed chain, or None when there was none under ``key``.
        """
        chain = self._chains.pop(key, None)
        if chain is None:
            return None
        del self._by_root_expiry[(chain.root, chain.expiry)]
        for option in chain.options:
            self._options.pop(option.symbol, None)
        self._sorted_chains = None
        return chain

    # --- reading -------------------------------------------------------------------------

    @property
    def chains(self) -> Mapping[str, ChainData]:
        """Chains by key (``"SPXW 2026-12-18"``), read-only view."""
        return MappingProxyType(self._chains)

    @property
    def option_count(self) -> int:
        """How many options the portfolio holds."""
        return len(self._options)

    @property
    def underlying_price(self) -> float | None:
        """The underlying's mid, else its last price (:attr:`UnderlyingData.price`)."""
        return self.underlying.price

    def sorted_chains(self) -> list[ChainData]:
        """Every chain, by expiry and then root."""
        if self._sorted_chains is None:
            self._sorted_chains = sorted(
                self._chains.values(), key=lambda chain: (chain.expiry, chain.root)
            )
        return list(self._sorted_chains)

    def get_chain(self, key: str) -> ChainData | None:
        """The chain under ``key`` (``"SPXW 2026-12-18"``), or None."""
        return self._chains.get(key)

    def find_chain(self, root: str, expiry: date) -> ChainData | None:
        """The chain of ``root`` expiring on ``expiry``, or None."""
        return self._by_root_expiry.get((root, expiry))

    def get_option(self, symbol: str) -> OptionData | None:
        """The option with canonical ``symbol``, or None."""
        return self._options.get(symbol)

    # --- selection -----------------------------------------------------------------------

    def live_chains(self, now: datetime, root: str | None = None) -> list[ChainData]:
        """Chains not yet expired at ``now`` (:meth:`ChainData.is_expired`), by expiry and root.

        Args:
            now: The current time; timezone-aware.
            root: Only chains of this root; None for every root.
        """
        return [
            chain
            for chain in self.sorted_chains()
            if (root is None or chain.root == root) and not chain.is_expired(now)
        ]

    def chains_by_days(
        self, now: datetime, min_days: int, max_days: int, root: str | None = None
    ) -> list[ChainData]:
        """Live chains with ``min_days <= days_to_expiry <= max_days``, by expiry and root.

        Args:
            now: The current time; timezone-aware.
            min_days: Fewest calendar days to expiry (0 for 0DTE); >= 0.
            max_days: Most calendar days to expiry; >= ``min_days``.
            root: Only chains of this root; None for every root.

        Raises:
            ValueError: ``min_days`` is negative or ``max_days`` below ``min_days``.
        """
        if min_days < 0:
            raise ValueError(f"min_days must be >= 0, got {min_days!r}")
        if max_days < min_days:
            raise ValueError(f"max_days must be >= min_days ({min_days}), got {max_days!r}")
        return [
            chain
            for chain in self.live_chains(now, root)
            if min_days <= chain.days_to_expiry(now) <= max_days
        ]

    def chains_by_expiry_type(
        self, expiry_type: ExpiryType, root: str | None = None
    ) -> list[ChainData]:
        """Every chain (expired ones too) of ``expiry_type``, by expiry and root.

        Args:
            expiry_type: Weekly, monthly, quarterly or unknown.
            root: Only chains of this root; None for every root.
        """
        return [
            chain
            for chain in self.sorted_chains()
            if chain.expiry_type is expiry_type and (root is None or chain.root == root)
        ]

    def nearest_chain(
        self, now: datetime, target_days: int, root: str | None = None
    ) -> ChainData | None:
        """The live chain whose days to expiry are nearest ``target_days``.

        Ties go to the earlier expiry, then to the root first in alphabetical order (pass
        ``root`` to choose between SPX and SPXW).

        Args:
            now: The current time; timezone-aware.
            target_days: Wanted calendar days to expiry; >= 0.
            root: Only chains of this root; None for every root.

        Returns:
            The chain, or None when no chain is live.

        Raises:
            ValueError: ``target_days`` is negative.
        """
        if target_days < 0:
            raise ValueError(f"target_days must be >= 0, got {target_days!r}")
        best: ChainData | None = None
        best_distance = math.inf
        for chain in self.live_chains(now, root):
            distance = abs(chain.days_to_expiry(now) - target_days)
            if distance < best_distance:
                best, best_distance = chain, distance
        return best

    def term_structure(
        self, now: datetime, rate: float = 0.0, root: str | None = None
    ) -> list[TermStructurePoint]:
        """ATM implied volatility of every live chain that has one, by expiry and root.

        Each chain's ATM iv is :meth:`ChainData.atm_iv` at its own forward, falling back on
        the underlying's price.

        Args:
            now: The current time; timezone-aware.
            rate: As in :meth:`ChainData.parity_forward`.
            root: Only chains of this root; None for every root.

        Raises:
            ValueError: ``rate`` is not finite or ``now`` is naive.
        """
        points: list[TermStructurePoint] = []
        for chain in self.live_chains(now, root):
            atm_iv = chain.atm_iv(rate=rate, now=now)
            if atm_iv is not None:
                points.append(
                    TermStructurePoint(chain.expiry, chain.days_to_expiry(now), atm_iv, chain.root)
                )
        return points
