"""Identifiers as the erasure register sees them: normalised, keyed, found in free text."""

from __future__ import annotations

import dataclasses

import pytest

from ronghe.privacy.identifiers import (
    PrivacyKeyMissing,
    candidates_in_text,
    keyed_hash,
    normalise,
    privacy_key,
    pseudonym,
)
from ronghe.settings import load_settings

KEY = b"identifier-tests"


CONTRACT_PHONE_FORMS = (
    "13800138000",
    "138-0013-8000",
    "+86 13800138000",
    "86-138 0013 8000",
    "(+86)138 0013 8000",
)


@pytest.mark.parametrize("written", CONTRACT_PHONE_FORMS)
def test_every_contract_phone_form_hashes_alike(written: str) -> None:
    assert keyed_hash(KEY, "phone", normalise("phone", written)) == keyed_hash(
        KEY, "phone", "+8613800138000"
    )
    assert ("phone", "+8613800138000") in candidates_in_text(f"M0001,张三,{written},M")


def test_masked_phones_and_pseudonyms_are_not_identifiers() -> None:
    assert normalise("phone", "138****8000") is None
    assert normalise("customer_id", pseudonym(KEY, "M0001")) is None


def test_the_key_changes_every_hash_and_pseudonyms_are_stable() -> None:
    assert keyed_hash(KEY, "email", "a@b.cn") != keyed_hash(b"other", "email", "a@b.cn")
    assert keyed_hash(KEY, "email", "a@b.cn") != keyed_hash(KEY, "online_identifier", "a@b.cn")
    first = pseudonym(KEY, "M0001")
    assert first.startswith("ERASED-") and "M0001" not in first
    assert pseudonym(KEY, "M0001") == first and pseudonym(KEY, first) == first


def test_emails_and_ids_are_found_in_free_text() -> None:
    found = candidates_in_text('{"buyer_id":"U10000142","buyer_email":"Zhu.P@foxmail.com"}')
    assert ("email", "zhu.p@foxmail.com") in found
    assert ("customer_id", "U10000142") in found


def test_a_missing_key_is_a_clear_error() -> None:
    with pytest.raises(PrivacyKeyMissing, match="RONGHE_PRIVACY_KEY"):
        privacy_key(dataclasses.replace(load_settings(), privacy_key=None))
