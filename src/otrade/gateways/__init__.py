"""Gateways: the bridge between otrade and a broker (see :class:`BaseGateway`)."""

from otrade.gateways.base import BaseGateway

__all__ = ["BaseGateway"]
