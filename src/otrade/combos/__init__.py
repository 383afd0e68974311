"""Multi-leg option combos: definitions, building and validation, signatures, payoffs."""

from __future__ import annotations

from otrade.combos.combo import Combo, ComboLeg, combo_signature, opposite_signature

__all__ = ["Combo", "ComboLeg", "combo_signature", "opposite_signature"]
