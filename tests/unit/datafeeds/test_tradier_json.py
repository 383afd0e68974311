"""The Tradier normaliser on every container quirk of the reference notes."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from otrade.constants import Exchange, ExpiryType, OptionRight, Product
from otrade.datafeeds.tradier_json import (
    ExpirationInfo,
    TradierResponseError,
    as_list,
    number,
    option_contract,
    parse_chain,
    parse_expirations,
    parse_quotes,
    provider_greeks,
    quote_record,
    raise_for_errors,
    underlying_contract,
    whole_number,
)
from otrade.objects import ContractData

RECEIVED = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)

SPY_CALL = {
    "symbol": "SPY261218C00450000",
    "description": "SPY Dec 18 2026 $450.00 Call",
    "type": "option",
    "last": None,
    "bid": 4.25,
    "ask": "4.30",
    "bidsize": 12,
    "asksize": "7",
    "volume": 0,
    "bid_date": 1764601200000,
    "ask_date": 1764601205000,
    "trade_date": 0,
    "underlying": "SPY",
    "strike": 450.0,
    "root_symbol": "SPY",
    "option_type": "call",
    "expiration_date": "2026-12-18",
    "greeks": {
        "delta": 0.52,
        "gamma": "1.95546E-10",
        "theta": -0.12,
        "vega": 0.31,
        "rho": 0.05,
        "phi": -0.04,
        "bid_iv": 0.0,
        "mid_iv": 0.182,
        "ask_iv": "0.19",
        "smv_vol": 0.18,
        "updated_at": "2026-12-01 14:59:33",
    },
}
SPY = {"symbol": "SPY", "type": "etf", "bid": 449.5, "ask": 449.6, "last": 449.55,
       "bid_date": 1764601200000, "ask_date": 1764601200000, "volume": "1200300"}  # fmt: skip


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, []),
        ("null", []),
        ("", []),
        ({}, []),
        ({"a": 1}, [{"a": 1}]),
        ("2026-12-18", ["2026-12-18"]),
        (450.0, [450.0]),
        ([1, 2], [1, 2]),
        ([], []),
    ],
)
def test_as_list_turns_every_container_shape_into_a_list(value, expected):
    assert as_list(value) == expected


@pytest.mark.parametrize(
    "payload",
    [
        {"quotes": {"quote": [SPY, SPY_CALL]}},
        {"quotes": {"quote": [SPY, SPY_CALL], "unmatched_symbols": {"symbol": "XYZ"}}},
    ],
)
def test_quotes_list_shape(payload):
    parsed = parse_quotes(payload)
    assert [q["symbol"] for q in parsed.quotes] == ["SPY", "SPY261218C00450000"]


@pytest.mark.parametrize(
    ("payload", "symbols", "unmatched"),
    [
        ({"quotes": {"quote": SPY}}, ["SPY"], []),
        ({"quotes": {"quote": SPY, "unmatched_symbols": {"symbol": "XYZ"}}}, ["SPY"], ["XYZ"]),
        ({"quotes": {"unmatched_symbols": {"symbol": ["XYZ", "ABC"]}}}, [], ["XYZ", "ABC"]),
        ({"quotes": None}, [], []),
        ({"quotes": "null"}, [], []),
        ({}, [], []),
        ({"quotes": {"quote": "null"}}, [], []),
    ],
)
def test_quotes_single_empty_and_unmatched_shapes(payload, symbols, unmatched):
    parsed = parse_quotes(payload)
    assert [q["symbol"] for q in parsed.quotes] == symbols
    assert parsed.unmatched_symbols == unmatched


@pytest.mark.parametrize(
    ("payload", "messages"),
    [
        ({"errors": {"error": "Invalid Parameter: symbols"}}, ["Invalid Parameter: symbols"]),
        ({"errors": {"error": ["bad expiration", "bad symbol"]}}, ["bad expiration", "bad symbol"]),
        ({"errors": "quota exceeded"}, ["quota exceeded"]),
    ],
)
def test_errors_with_http_200_raise_with_every_message(payload, messages):
    with pytest.raises(TradierResponseError) as raised:
        parse_quotes(payload)
    assert raised.value.messages == messages
    with pytest.raises(TradierResponseError):
        parse_chain(payload)
    with pytest.raises(TradierResponseError):
        parse_expirations(payload)
    raise_for_errors({"quotes": None})  # no errors key: nothing happens


def test_a_payload_of_the_wrong_shape_is_refused_by_name():
    with pytest.raises(TradierResponseError, match="'quotes' should be an object, got 42"):
        parse_quotes({"quotes": 42})
    with pytest.raises(TradierResponseError, match="expected a JSON object, got list"):
        parse_chain([])
    with pytest.raises(TradierResponseError, match=r"options\.option should be objects"):
        parse_chain({"options": {"option": ["SPY261218C00450000"]}})


@pytest.mark.parametrize(
    ("payload", "count"),
    [
        ({"options": {"option": [SPY_CALL, SPY_CALL]}}, 2),
        ({"options": {"option": SPY_CALL}}, 1),
        ({"options": None}, 0),
        ({"options": "null"}, 0),
    ],
)
def test_chain_shapes(payload, count):
    assert len(parse_chain(payload)) == count


def test_expirations_in_the_plain_form_single_and_many():
    assert parse_expirations({"expirations": {"date": "2026-12-18"}}) == [
        ExpirationInfo(date(2026, 12, 18))
    ]
    assert [e.expiry for e in parse_expirations(
        {"expirations": {"date": ["2026-12-18", "2026-12-04"]}}
    )] == [date(2026, 12, 4), date(2026, 12, 18)]  # fmt: skip
    assert parse_expirations({"expirations": None}) == []
    assert parse_expirations({"expirations": "null"}) == []


def test_expirations_in_the_detailed_form_with_single_strike_and_strings():
    payload = {
        "expirations": {
            "expiration": [
                {"date": "2026-12-18", "contract_size": 100, "expiration_type": "standard",
                 "strikes": {"strike": [440.0, "445", 450]}},
                {"date": "2026-12-04", "contract_size": "100", "expiration_type": "weeklys",
                 "strikes": {"strike": 450.0}},
            ]
        }
    }  # fmt: skip
    assert parse_expirations(payload) == [
        ExpirationInfo(date(2026, 12, 4), "weeklys", 100, (450.0,)),
        ExpirationInfo(date(2026, 12, 18), "standard", 100, (440.0, 445.0, 450.0)),
    ]
    single = {"expirations": {"expiration": {"date": "2026-12-18", "strikes": None}}}
    assert parse_expirations(single) == [ExpirationInfo(date(2026, 12, 18))]
    with pytest.raises(TradierResponseError, match="YYYY-MM-DD date, got '12/18/2026'"):
        parse_expirations({"expirations": {"date": "12/18/2026"}})


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1, 1.0), (2.5, 2.5), ("2.5", 2.5), ("1.95546E-10", 1.95546e-10), ("-3e2", -300.0),
     (None, None), ("null", None), ("", None), (float("nan"), None), ("NaN", None)],
)  # fmt: skip
def test_number_accepts_numbers_numeric_strings_and_nulls(value, expected):
    assert number(value) == expected


@pytest.mark.parametrize("value", [True, "abc", [1], {"a": 1}, "inf", float("-inf")])
def test_number_refuses_everything_else_naming_the_field(value):
    with pytest.raises(TradierResponseError, match=r"SPY\.bid should be"):
        number(value, "SPY.bid")


def test_whole_number():
    assert whole_number("12") == 12
    assert whole_number(12.0) == 12
    assert whole_number(None) is None
    with pytest.raises(TradierResponseError, match=r"volume should be a whole number, got .1\.5."):
        whole_number("1.5", "volume")


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_number_reads_back_any_float_written_as_text(value):
    assert number(repr(value)) == value
    assert number(json.loads(json.dumps(value))) == value


def test_option_quote_record_uses_the_latest_side_time_and_treats_zero_as_no_market():
    record = quote_record(SPY_CALL, RECEIVED)
    assert record.symbol == "SPY261218C00450000"
    assert record.time == datetime.fromtimestamp(1764601205, UTC)
    assert (record.bid, record.ask, record.last) == (4.25, 4.30, None)
    assert (record.bid_size, record.ask_size, record.volume) == (12, 7, 0)
    assert record.source == "tradier"
    no_market = quote_record(SPY_CALL | {"bid": 0.0, "bid_date": 0, "ask_date": None}, RECEIVED)
    assert no_market.bid is None
    assert no_market.time == RECEIVED
    with pytest.raises(TradierResponseError, match=r"SPY261218C00450000\.ask should be a number"):
        quote_record(SPY_CALL | {"ask": "n/a"}, RECEIVED)
    with pytest.raises(TradierResponseError, match="quote without a symbol"):
        quote_record({"bid": 1.0}, RECEIVED)


def test_epoch_seconds_are_accepted_as_well_as_milliseconds():
    record = quote_record(SPY | {"bid_date": 1764601200, "ask_date": None}, RECEIVED)
    assert record.time == datetime.fromtimestamp(1764601200, UTC)


def test_provider_greeks_with_scientific_notation_and_zero_iv_as_unknown():
    greeks = provider_greeks(SPY_CALL)
    assert greeks is not None
    assert greeks.gamma == 1.95546e-10
    assert greeks.bid_iv is None  # 0.0 means not computable
    assert (greeks.mid_iv, greeks.ask_iv, greeks.smoothed_iv) == (0.182, 0.19, 0.18)
    assert greeks.updated_at == "2026-12-01 14:59:33"
    assert provider_greeks(SPY) is None
    assert provider_greeks(SPY_CALL | {"greeks": None}) is None
    with pytest.raises(TradierResponseError, match=r"greeks\.delta should be a number"):
        provider_greeks(SPY_CALL | {"greeks": {"delta": "high"}})


# -- listings -----------------------------------------------------------------------------


def listed_option(**changes: object) -> dict[str, object]:
    entry: dict[str, object] = {
        "symbol": "SPXW261211P05800000", "description": "SPXW Dec 11 2026 $5800.00 Put",
        "underlying": "SPX", "root_symbol": "SPXW", "strike": "5800.0", "option_type": "put",
        "expiration_date": "2026-12-11", "expiration_type": "weeklys", "contract_size": 100,
    }  # fmt: skip
    return entry | changes


def test_a_chain_entry_becomes_its_listing():
    assert option_contract(listed_option()) == ContractData(
        symbol="SPXW261211P05800000", product=Product.OPTION, exchange=Exchange.SMART,
        name="SPXW Dec 11 2026 $5800.00 Put", multiplier=100, underlying_symbol="SPX",
        root="SPXW", expiry=date(2026, 12, 11), strike=5800.0, right=OptionRight.PUT,
        expiry_type=ExpiryType.WEEKLY,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("cycle", "expected"),
    [("standard", ExpiryType.MONTHLY), ("weeklys", ExpiryType.WEEKLY),
     ("quarterlys", ExpiryType.QUARTERLY), ("eom", ExpiryType.UNKNOWN), (None, ExpiryType.UNKNOWN)],
)  # fmt: skip
def test_expiration_types(cycle, expected):
    assert option_contract(listed_option(expiration_type=cycle)).expiry_type is expected


def test_missing_optional_fields_fall_back_to_the_symbol_and_100_shares():
    bare = {"symbol": "AAPL1261218C00150000"}
    contract = option_contract(bare)
    assert (contract.underlying_symbol, contract.root, contract.multiplier) == (
        "AAPL1",
        "AAPL1",
        100,
    )
    adjusted = option_contract({"symbol": "AAPL1261218C00150000", "underlying": "AAPL",
                                "contract_size": "150"})  # fmt: skip
    assert (adjusted.underlying_symbol, adjusted.multiplier) == ("AAPL", 150)


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"symbol": "SPXW 261211P5800"}, "bad symbol"),
        ({"symbol": None}, "bad symbol"),
        ({"root_symbol": "SPX"}, "SPXW261211P05800000.root_symbol is 'SPX'"),
        ({"expiration_date": "2026-12-18"}, "SPXW261211P05800000.expiration_date"),
        ({"option_type": "call"}, "SPXW261211P05800000.option_type is 'call'"),
        ({"strike": 5805}, "SPXW261211P05800000.strike is 5805"),
        ({"strike": "abc"}, "SPXW261211P05800000.strike"),
        ({"contract_size": 0}, "SPXW261211P05800000.contract_size must be > 0"),
    ],
)
def test_a_bad_chain_entry_is_refused_naming_the_field(changes, named):
    with pytest.raises(TradierResponseError, match=re.escape(named)):
        option_contract(listed_option(**changes))


def test_underlyings_by_security_type():
    assert underlying_contract({"symbol": "SPX", "type": "index"}).product is Product.INDEX
    assert underlying_contract({"symbol": "AAPL", "type": "stock"}).product is Product.EQUITY
    assert underlying_contract({"symbol": "SPY", "type": "etf"}).product is Product.ETF
    with pytest.raises(TradierResponseError, match=r"ESZ6\.type is 'future'"):
        underlying_contract({"symbol": "ESZ6", "type": "future"})
    with pytest.raises(TradierResponseError, match="without a symbol"):
        underlying_contract({"type": "etf"})
