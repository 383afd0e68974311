"""IbGateway's pure parts: settings, combo ratios, status mapping, error text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from otrade.constants import Status
from otrade.errors import GatewayError
from otrade.gateways.ib import IbSettings, _error_text, ib_status_update, reduce_ratios


def test_settings_defaults_and_names_of_bad_values():
    assert IbSettings.from_mapping({}) == IbSettings()
    parsed = IbSettings.from_mapping({"port": 4002, "client_id": 7, "timeout_s": 3})
    assert (parsed.port, parsed.client_id, parsed.timeout_s) == (4002, 7, 3.0)
    for values, message in [
        ({"prot": 1}, "ib settings: unknown key 'prot'"),
        ({"port": 70000}, "ib settings: port must be from 1 to 65535, not 70000"),
        ({"port": "7497"}, "ib settings: port must be an integer >= 0, not '7497'"),
        ({"readonly": "yes"}, "ib settings: readonly must be true or false, not 'yes'"),
        ({"timeout_s": 0}, "ib settings: timeout_s must be a number > 0, not 0"),
        ({"reconnect_max_s": float("inf")}, "ib settings: reconnect_max_s must be finite"),
        ({"host": 127}, "ib settings: host must be a string, not 127"),
    ]:
        with pytest.raises(GatewayError, match=message):
            IbSettings.from_mapping(values)


def test_ratios_are_reduced_by_their_gcd():
    assert reduce_ratios([2, -2]) == ([1, -1], 2)
    assert reduce_ratios([1, -2, 1]) == ([1, -2, 1], 1)
    assert reduce_ratios([3, -6]) == ([1, -2], 3)


@given(st.lists(st.integers(-50, 50).filter(bool), min_size=2, max_size=4))
def test_reduced_ratios_times_the_divisor_give_back_the_ratios(ratios):
    reduced, divisor = reduce_ratios(ratios)
    assert [ratio * divisor for ratio in reduced] == ratios
    assert divisor >= 1


@pytest.mark.parametrize(
    ("status", "filled", "reason", "expected"),
    [
        ("PendingSubmit", 0, "", Status.SUBMITTING),
        ("ApiPending", 0, "", Status.SUBMITTING),
        ("PreSubmitted", 0, "", Status.NOT_TRADED),
        ("Submitted", 2, "", Status.NOT_TRADED),
        ("Filled", 3, "", Status.ALL_TRADED),
        ("Cancelled", 0, "", Status.CANCELLED),
        ("Cancelled", 0, "201: margin", Status.REJECTED),
        ("ApiCancelled", 0, "", Status.CANCELLED),
        ("Inactive", 0, "", Status.REJECTED),
        ("PendingCancel", 1, "", None),
        ("ValidationError", 0, "", None),
    ],
)
def test_ib_statuses_map_to_the_state_machine(status, filled, reason, expected):
    update = ib_status_update(status, filled, 1.25 if filled else 0.0, reason)
    assert update.status is expected
    assert update.traded == filled
    assert update.average_price == (1.25 if filled else None)


def test_inactive_and_rejected_carry_a_reason():
    assert ib_status_update("Inactive", 0, 0.0).reject_reason == "IB status Inactive"
    assert ib_status_update("Cancelled", 0, 0.0, "201: x").reject_reason == "201: x"
    assert ib_status_update("Cancelled", 0, 0.0).reject_reason is None


def test_error_text_is_ibs_own_message():
    line = "Error 201, reqId 7: Order rejected - reason: margin, contract: Option(conId=1)"
    assert _error_text(line) == "Order rejected - reason: margin"
    assert _error_text("plain") == "plain"


def test_a_combo_credit_is_an_average_price_and_zero_is_none():
    assert ib_status_update("Filled", 2, -0.40).average_price == -0.40
    assert ib_status_update("Submitted", 0, 0.0).average_price is None
    assert ib_status_update("Submitted", 1, 0.0).average_price is None


def test_the_account_may_be_a_secret():
    from otrade.settings import Secret

    assert IbSettings.from_mapping({"account": Secret("U7654321")}).account == "U7654321"


def test_only_otrade_order_ids_in_order_ref_name_an_order():
    from datetime import UTC, datetime

    from otrade.clock import SimulatedClock
    from otrade.event import EventEngine
    from otrade.gateways.ib import IbGateway
    from otrade.gateways.orders import new_order_id
    from otrade.ioloop import IoLoop

    clock = SimulatedClock(datetime(2026, 12, 2, tzinfo=UTC))
    gateway = IbGateway(EventEngine(clock=clock, threaded=False), "ib", clock, IoLoop())
    order_id = new_order_id(clock)
    assert gateway._local_id(order_id, 5) == order_id
    assert gateway._local_id("hedge from TWS", 5) is None
    assert gateway._local_id("", 5) is None
