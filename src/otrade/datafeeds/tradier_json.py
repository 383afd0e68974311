"""Normalise Tradier's JSON into plain Python values and otrade records.

Tradier's JSON is a mechanical conversion of XML, so the shape of a container depends on
how many children it had (see ``shared/reference/tradier.md`` section 3).  Every response
goes through this module, which is the one place that knows the quirks:

* a container holds a list for many results, a bare object (or bare scalar) for one, and
  ``null``, the string ``"null"``, ``{}`` or a missing key for none: :func:`as_list`
  turns all of them into a list;
* errors may arrive with HTTP 200 as ``{"errors": {"error": str | [str]}}``:
  :func:`raise_for_errors` turns them into :class:`TradierResponseError`;
* numbers may arrive as strings, in scientific notation, or as ``null``: :func:`number`
  and :func:`whole_number` accept all of them and refuse anything else by name;
* unknown symbols in a quotes call are not errors but ``unmatched_symbols``;
* an implied volatility of 0.0 means "not computable", never zero volatility.

Nothing here does I/O; the functions take the decoded JSON (``json.loads`` output).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Final

import attrs

from otrade.constants import Exchange, ExpiryType, OptionRight, Product
from otrade.errors import OTradeError, SymbolError
from otrade.objects import ContractData, QuoteData
from otrade.symbols import parse_option_symbol

__all__ = [
    "ExpirationInfo",
    "ProviderGreeks",
    "QuotesResponse",
    "TradierResponseError",
    "as_list",
    "number",
    "option_contract",
    "parse_chain",
    "parse_expirations",
    "parse_quotes",
    "provider_greeks",
    "quote_record",
    "raise_for_errors",
    "underlying_contract",
    "whole_number",
]

_EMPTY: Final = (None, "null", "")


class TradierResponseError(OTradeError):
    """Tradier answered, but with an error or a payload otrade cannot read.

    Attributes:
        messages: The error messages Tradier sent, or the description of the bad payload.
    """

    def __init__(self, messages: list[str]) -> None:
        super().__init__("; ".join(messages))
        self.messages = messages


def as_list(value: object) -> list[object]:
    """A Tradier container as a list.

    ``None``, ``"null"``, ``""`` and ``{}`` give ``[]``; a single object or scalar gives
    ``[value]``; a list is returned as it is.
    """
    if value in _EMPTY or (isinstance(value, Mapping) and not value):
        return []
    if isinstance(value, list):
        return value
    return [value]


def _section(payload: object, key: str) -> Mapping[str, object]:
    """``payload[key]`` as a mapping; an empty mapping when it holds nothing."""
    if not isinstance(payload, Mapping):
        raise TradierResponseError([f"expected a JSON object, got {type(payload).__name__}"])
    value = payload.get(key)
    if value in _EMPTY:
        return {}
    if not isinstance(value, Mapping):
        raise TradierResponseError([f"{key!r} should be an object, got {value!r}"])
    return value


def raise_for_errors(payload: object) -> None:
    """Raise when a response (of any HTTP status) carries Tradier's ``errors`` object.

    Raises:
        TradierResponseError: With every message Tradier sent.
    """
    if not isinstance(payload, Mapping) or "errors" not in payload:
        return
    errors = payload["errors"]
    inner = errors.get("error") if isinstance(errors, Mapping) else errors
    messages = [str(message) for message in as_list(inner)] or [f"errors: {errors!r}"]
    raise TradierResponseError(messages)


def number(value: object, field: str = "value") -> float | None:
    """A JSON number, numeric string (``"1.5"``, ``"1.95546E-10"``) or null as a float.

    Returns:
        The float, or None for ``null``, ``"null"``, ``""`` and NaN.

    Raises:
        TradierResponseError: A boolean, an infinite value, or text that is not a number
            (the message names ``field``).
    """
    if value in _EMPTY:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise TradierResponseError([f"{field} should be a number, got {value!r}"])
    try:
        result = float(value)
    except ValueError:
        raise TradierResponseError([f"{field} should be a number, got {value!r}"]) from None
    if math.isnan(result):
        return None
    if math.isinf(result):
        raise TradierResponseError([f"{field} should be finite, got {value!r}"])
    return result


def whole_number(value: object, field: str = "value") -> int | None:
    """Like :func:`number` for counts and sizes; ``"12"`` and ``12.0`` are 12.

    Raises:
        TradierResponseError: The value is not a whole number (names ``field``).
    """
    result = number(value, field)
    if result is None:
        return None
    if not result.is_integer():
        raise TradierResponseError([f"{field} should be a whole number, got {value!r}"])
    return int(result)


def _text(value: object) -> str:
    return "" if value in _EMPTY else str(value)


def _epoch_ms(value: object, field: str) -> datetime | None:
    """Tradier's epoch timestamps; 0 means "never" (an option that never traded)."""
    stamp = number(value, field)
    if not stamp:
        return None
    seconds = stamp / 1000 if stamp > 1e11 else stamp  # milliseconds, defensively
    return datetime.fromtimestamp(seconds, UTC)


# -- quotes -------------------------------------------------------------------------------


@attrs.frozen
class QuotesResponse:
    """The parts of a quotes response.

    Attributes:
        quotes: One mapping per quoted symbol, as Tradier sent it.
        unmatched_symbols: Symbols Tradier did not recognise.
    """

    quotes: list[Mapping[str, object]]
    unmatched_symbols: list[str]


def _mappings(values: list[object], what: str) -> list[Mapping[str, object]]:
    bad = [value for value in values if not isinstance(value, Mapping)]
    if bad:
        raise TradierResponseError([f"{what} should be objects, got {bad[0]!r}"])
    return [value for value in values if isinstance(value, Mapping)]


def parse_quotes(payload: object) -> QuotesResponse:
    """Normalise a ``/markets/quotes`` response.

    Raises:
        TradierResponseError: The response carries errors or is not a quotes response.
    """
    raise_for_errors(payload)
    section = _section(payload, "quotes")
    quotes = _mappings(as_list(section.get("quote")), "quotes.quote")
    unmatched_section = section.get("unmatched_symbols")
    unmatched: list[object] = []
    if isinstance(unmatched_section, Mapping):
        unmatched = as_list(unmatched_section.get("symbol"))
    return QuotesResponse(quotes, [str(symbol) for symbol in unmatched])


def parse_chain(payload: object) -> list[Mapping[str, object]]:
    """Normalise a ``/markets/options/chains`` response to one mapping per option.

    Raises:
        TradierResponseError: The response carries errors or is not a chain response.
    """
    raise_for_errors(payload)
    return _mappings(as_list(_section(payload, "options").get("option")), "options.option")


# -- expirations --------------------------------------------------------------------------


@attrs.frozen
class ExpirationInfo:
    """One expiration date of an underlying.

    Attributes:
        expiry: The date.
        expiration_type: Tradier's type (``standard``, ``weeklys``, ``quarterlys``...), ""
            when not requested.
        contract_size: Shares per contract when requested, else None.
        strikes: The strikes when requested, else an empty tuple.
    """

    expiry: date
    expiration_type: str = ""
    contract_size: int | None = None
    strikes: tuple[float, ...] = ()


def _date(value: object, field: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise TradierResponseError(
            [f"{field} should be a YYYY-MM-DD date, got {value!r}"]
        ) from None


def parse_expirations(payload: object) -> list[ExpirationInfo]:
    """Normalise a ``/markets/options/expirations`` response, in either of its forms.

    The plain form lists dates under ``date``; with ``strikes``, ``contractSize`` or
    ``expirationType`` requested, objects come under ``expiration`` instead.

    Raises:
        TradierResponseError: The response carries errors or a date cannot be read.
    """
    raise_for_errors(payload)
    section = _section(payload, "expirations")
    found = [_date(value, "expirations.date") for value in as_list(section.get("date"))]
    result = [ExpirationInfo(expiry) for expiry in found]
    for item in _mappings(as_list(section.get("expiration")), "expirations.expiration"):
        strikes_section = item.get("strikes")
        strikes = (
            as_list(strikes_section.get("strike")) if isinstance(strikes_section, Mapping) else []
        )
        values = [number(strike, "expirations.expiration.strikes.strike") for strike in strikes]
        result.append(
            ExpirationInfo(
                expiry=_date(item.get("date"), "expirations.expiration.date"),
                expiration_type=_text(item.get("expiration_type")),
                contract_size=whole_number(item.get("contract_size"), "contract_size"),
                strikes=tuple(value for value in values if value is not None),
            )
        )
    return sorted(result, key=lambda info: info.expiry)


# -- records ------------------------------------------------------------------------------


def quote_record(quote: Mapping[str, object], received: datetime) -> QuoteData:
    """A Tradier quote (equity or option, from quotes or chains) as a QuoteData.

    The quote time is the later of the bid and ask times Tradier stamps, else
    ``received``.  A bid or ask of 0 means no market on that side and becomes None.

    Raises:
        TradierResponseError: The symbol is missing or a field is not a number (named).
    """
    symbol = _text(quote.get("symbol"))
    if not symbol:
        raise TradierResponseError([f"quote without a symbol: {dict(quote)!r}"])
    times = [
        stamp
        for stamp in (_epoch_ms(quote.get("bid_date"), "bid_date"),
                      _epoch_ms(quote.get("ask_date"), "ask_date"))
        if stamp is not None
    ]  # fmt: skip
    bid = number(quote.get("bid"), f"{symbol}.bid")
    ask = number(quote.get("ask"), f"{symbol}.ask")
    return QuoteData(
        symbol=symbol,
        time=max(times) if times else received,
        bid=bid or None,
        ask=ask or None,
        last=number(quote.get("last"), f"{symbol}.last"),
        bid_size=whole_number(quote.get("bidsize"), f"{symbol}.bidsize") or 0,
        ask_size=whole_number(quote.get("asksize"), f"{symbol}.asksize") or 0,
        volume=whole_number(quote.get("volume"), f"{symbol}.volume") or 0,
        source="tradier",
    )


@attrs.frozen
class ProviderGreeks:
    """Greeks and implied volatility as Tradier (ORATS) computed them, about hourly.

    Implied volatilities of 0.0 ("not computable") are None.  Units are Tradier's own.

    Attributes:
        symbol: The option.
        delta: Delta.
        gamma: Gamma.
        theta: Theta.
        vega: Vega.
        rho: Rho.
        bid_iv: Implied volatility of the bid.
        mid_iv: Implied volatility of the mid.
        ask_iv: Implied volatility of the ask.
        smoothed_iv: ORATS' smoothed final volatility (``smv_vol``).
        updated_at: Tradier's ``updated_at`` text as sent (its time zone is undocumented).
    """

    symbol: str
    delta: float | None
    gamma: float | None
    theta: float | None
    vega: float | None
    rho: float | None
    bid_iv: float | None
    mid_iv: float | None
    ask_iv: float | None
    smoothed_iv: float | None
    updated_at: str


def provider_greeks(quote: Mapping[str, object]) -> ProviderGreeks | None:
    """The ``greeks`` object of an option quote, or None when it has none.

    Raises:
        TradierResponseError: A Greek is not a number (named with the symbol).
    """
    greeks = quote.get("greeks")
    if not isinstance(greeks, Mapping) or not greeks:
        return None
    symbol = _text(quote.get("symbol"))

    def value(name: str) -> float | None:
        return number(greeks.get(name), f"{symbol}.greeks.{name}")

    def volatility(name: str) -> float | None:
        result = value(name)
        return result if result else None  # 0.0 means "not computable"

    return ProviderGreeks(
        symbol=symbol,
        delta=value("delta"),
        gamma=value("gamma"),
        theta=value("theta"),
        vega=value("vega"),
        rho=value("rho"),
        bid_iv=volatility("bid_iv"),
        mid_iv=volatility("mid_iv"),
        ask_iv=volatility("ask_iv"),
        smoothed_iv=volatility("smv_vol"),
        updated_at=_text(greeks.get("updated_at")),
    )


# Tradier's expiration_type values; anything else (eom, for one) is UNKNOWN.
_EXPIRY_TYPES: Final = {
    "standard": ExpiryType.MONTHLY,
    "weeklys": ExpiryType.WEEKLY,
    "quarterlys": ExpiryType.QUARTERLY,
}

# Tradier's security types of underlyings.
_PRODUCTS: Final = {"stock": Product.EQUITY, "etf": Product.ETF, "index": Product.INDEX}


def expiry_type(value: object) -> ExpiryType:
    """Tradier's ``expiration_type`` as an ExpiryType (UNKNOWN for other values)."""
    return _EXPIRY_TYPES.get(_text(value).lower(), ExpiryType.UNKNOWN)


def option_contract(option: Mapping[str, object]) -> ContractData:
    """One entry of a chains response as an option listing.

    The symbol (unpadded OCC, otrade's canonical form) gives root, expiry, right and
    strike; the entry's own ``root_symbol``, ``expiration_date``, ``strike`` and
    ``option_type``, when present, must agree with it.

    Raises:
        TradierResponseError: A field is missing, unreadable or contradicts the symbol
            (the message names the symbol and the field).
    """
    symbol = _text(option.get("symbol"))
    try:
        parsed = parse_option_symbol(symbol)
    except SymbolError as error:
        raise TradierResponseError([f"chain option with a bad symbol: {error}"]) from None
    underlying = _text(option.get("underlying")) or parsed.root
    strike = number(option.get("strike"), f"{symbol}.strike")
    checks = {
        "root_symbol": (_text(option.get("root_symbol")), parsed.root),
        "expiration_date": (_text(option.get("expiration_date")), parsed.expiry.isoformat()),
        "option_type": (
            _text(option.get("option_type")).lower(),
            "call" if parsed.right is OptionRight.CALL else "put",
        ),
    }
    for field, (given, expected) in checks.items():
        if given and given != expected:
            raise TradierResponseError(
                [f"{symbol}.{field} is {given!r}, the symbol says {expected!r}"]
            )
    if strike is not None and abs(strike - float(parsed.strike)) > 1e-6:
        raise TradierResponseError(
            [f"{symbol}.strike is {strike}, the symbol says {parsed.strike}"]
        )
    size = whole_number(option.get("contract_size"), f"{symbol}.contract_size")
    if size is None:
        size = 100
    elif size <= 0:
        raise TradierResponseError([f"{symbol}.contract_size must be > 0, not {size}"])
    return ContractData(
        symbol=symbol,
        product=Product.OPTION,
        exchange=Exchange.SMART,
        name=_text(option.get("description")),
        multiplier=size,
        underlying_symbol=underlying,
        root=parsed.root,
        expiry=parsed.expiry,
        strike=float(parsed.strike),
        right=parsed.right,
        expiry_type=expiry_type(option.get("expiration_type")),
    )


def underlying_contract(quote: Mapping[str, object]) -> ContractData:
    """An underlying's quote as its listing (stock, ETF or index).

    Raises:
        TradierResponseError: The symbol is missing or the type is not one of ``stock``,
            ``etf`` or ``index`` (named).
    """
    symbol = _text(quote.get("symbol"))
    if not symbol:
        raise TradierResponseError([f"quote without a symbol: {dict(quote)!r}"])
    kind = _text(quote.get("type")).lower()
    product = _PRODUCTS.get(kind)
    if product is None:
        raise TradierResponseError(
            [f"{symbol}.type is {kind!r}; an underlying is one of {sorted(_PRODUCTS)}"]
        )
    return ContractData(
        symbol=symbol,
        product=product,
        exchange=Exchange.SMART,
        name=_text(quote.get("description")),
    )
