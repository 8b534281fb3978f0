"""The MYOB 2023.1.3 password rule shared by inventory validation and the ERP modules."""
import pytest

from ansible_collections.ocerra.acumatica.plugins.module_utils.password_policy import (
    MIN_LENGTH, describe, unmet_requirements)

STRONG = "Tq7#vLm2-Rx9pWz"  # 15 characters, upper, lower, digit, symbol


def test_strong_password_meets_every_requirement():
    assert MIN_LENGTH == 14
    assert unmet_requirements(STRONG) == []


@pytest.mark.parametrize("password", [
    "Abcdefghijklm1",        # exactly 14 characters, a digit and no symbol
    "Abcdefghijklm!",        # a symbol and no digit
])
def test_digit_or_symbol_is_enough(password):
    assert unmet_requirements(password) == []


def test_letters_of_other_scripts_and_spaces_are_no_symbols():
    assert unmet_requirements("Abcdefghijklm é") == ["a digit or a symbol"]


@pytest.mark.parametrize("password, unmet", [
    ("Tq7#vLm2-Rx9p", ["at least 14 characters"]),                 # 13 characters
    ("tq7#vlm2-rx9pwz", ["an upper-case letter (A-Z)"]),
    ("TQ7#VLM2-RX9PWZ", ["a lower-case letter (a-z)"]),
    ("TqsavLmaaRxapWz", ["a digit or a symbol"]),
    ("Äqsavlmaarxapwz1", ["an upper-case letter (A-Z)"]),         # non-ASCII upper only
    ("short", ["at least 14 characters", "an upper-case letter (A-Z)", "a digit or a symbol"]),
])
def test_each_unmet_requirement_is_named(password, unmet):
    assert unmet_requirements(password) == unmet


@pytest.mark.parametrize("bad", ["\n", "\r", "\t", "\x00", "\x7f", "\u2028", "\ud800"])
def test_control_characters_and_line_breaks_are_refused(bad):
    assert unmet_requirements(STRONG + bad + "x") == ["no control characters or line breaks"]


@pytest.mark.parametrize("password", [" " + STRONG, STRONG + " "])
def test_leading_or_trailing_spaces_are_refused(password):
    assert unmet_requirements(password) == ["no leading or trailing spaces"]


def test_inner_space_is_allowed():
    assert unmet_requirements("Tq7 vLm2 Rx9pWz") == []


def test_non_string_is_refused():
    assert unmet_requirements(12345678901234567) == ["a string"]
    assert unmet_requirements(None) == ["a string"]


def test_min_length_is_a_parameter():
    assert unmet_requirements("Abcdefgh1", min_length=8) == []
    assert unmet_requirements("Abcdefgh1", min_length=10) == ["at least 10 characters"]


def test_messages_never_contain_the_password():
    canary = "canary-Pw-in-message"[:12]  # too short, so there is something to report
    unmet = unmet_requirements(canary)
    assert unmet
    text = describe(unmet)
    assert "MYOB 2023.1.3" in text and "at least 14 characters" in text
    assert canary not in text
