"""Normalisation of the evidence people leave: phones, names, e-mails."""

from __future__ import annotations

import pytest

from ronghe.identity.emails import normalise_email
from ronghe.identity.names import names_equivalent, nickname_names, normalise_name
from ronghe.identity.phones import parse_phone


@pytest.mark.parametrize(
    "typed",
    ["13800138000", "138-0013-8000", "+86 13800138000", "86-138 0013 8000", "(+86)138 0013 8000"],
)
def test_every_till_phone_form_becomes_the_same_e164(typed: str) -> None:
    phone = parse_phone(typed)
    assert phone is not None
    assert phone.e164 == "+8613800138000"
    assert phone.mask_key == "138-8000"
    assert not phone.is_masked


@pytest.mark.parametrize("typed", ["138****8000", "+86 138****8000", "138＊＊＊＊8000"])
def test_a_masked_phone_keeps_only_its_prefix_and_suffix(typed: str) -> None:
    phone = parse_phone(typed)
    assert phone is not None and phone.is_masked
    assert phone.e164 is None
    assert phone.mask_key == parse_phone("13812348000").mask_key


def test_a_mobile_in_a_block_newer_than_the_phone_metadata_is_still_a_phone() -> None:
    assert parse_phone("19912345678").e164 == "+8619912345678"


@pytest.mark.parametrize("typed", ["", "   ", None, "n/a", "12345", "138****80", "1380013800"])
def test_values_that_are_not_phones_are_no_evidence(typed: str | None) -> None:
    assert parse_phone(typed) is None


def test_spacing_full_width_and_traditional_script_normalise_to_one_name() -> None:
    variants = ["张伟", "张 伟", " 张伟", "张  伟 ", "张\u3000伟", "張偉"]
    names = {normalise_name(v) for v in variants}
    assert len(names) == 1
    (name,) = names
    assert name.text == "张伟" and name.is_real


def test_full_width_latin_and_digits_become_half_width() -> None:
    assert normalise_name("ＡＢＣ１２３").text == "abc123"


def test_a_transliterated_name_with_any_middle_dot_is_one_real_name() -> None:
    forms = ["买买提·艾力", "买买提 · 艾力", "买买提．艾力", "买买提•艾力"]
    names = {normalise_name(form) for form in forms}
    assert len(names) == 1
    assert next(iter(names)).is_real


def test_a_homophone_typed_by_mistake_is_equivalent_but_not_exact() -> None:
    assert names_equivalent(normalise_name("张伟"), normalise_name("章伟")) == "homophone"
    assert names_equivalent(normalise_name("陈丽华"), normalise_name("陈莉华")) == "homophone"
    assert names_equivalent(normalise_name("張偉"), normalise_name("张伟")) == "exact"


def test_different_names_are_not_equivalent() -> None:
    assert names_equivalent(normalise_name("张伟"), normalise_name("张丽")) is None
    assert names_equivalent(normalise_name("张伟"), normalise_name("张伟华")) is None


@pytest.mark.parametrize(
    "nickname", ["tb123456789", "jd_88231", "快乐的小猫", "小可爱", "zhiwei123", "伟伟酱"]
)
def test_marketplace_nicknames_are_not_real_names(nickname: str) -> None:
    name = normalise_name(nickname)
    assert name is not None and not name.is_real


def test_a_nickname_is_never_equivalent_even_to_itself() -> None:
    nickname = normalise_name("小可爱")
    assert names_equivalent(nickname, nickname) is None


@pytest.mark.parametrize(
    ("nickname", "name"),
    [("zhiwei88", "张志伟"), ("zhangzhiwei", "张志伟"), ("fei1214", "王菲"), ("ｍｉｎｇ７", "李明"),
     ("涛涛酱", "董国涛"), ("小伟伟", "张伟"), ("偉偉", "张伟"), ("nana", "欧阳娜娜")],
)  # fmt: skip
def test_a_nickname_built_from_the_given_name_agrees(nickname: str, name: str) -> None:
    assert nickname_names(normalise_name(nickname).text, normalise_name(name)) is True


@pytest.mark.parametrize(
    ("nickname", "name"), [("yanwan1191", "朱诗琦"), ("fang1988", "张伟"), ("明明酱", "张桂薇")]
)
def test_a_nickname_built_from_another_given_name_disagrees(nickname: str, name: str) -> None:
    assert nickname_names(normalise_name(nickname).text, normalise_name(name)) is False


@pytest.mark.parametrize(
    ("nickname", "name"),
    [("tb123456789", "张伟"), ("jd_88231", "张伟"), ("快乐的小猫", "张伟"), ("小小熊猫", "张小"),
     ("wang88", "王菲"), ("xyz123", "王菲"), ("zhiwei88", "阿依古丽·买买提"), ("a" * 60, "王菲")],
)  # fmt: skip
def test_a_nickname_not_built_like_a_name_says_nothing(nickname: str, name: str) -> None:
    assert nickname_names(normalise_name(nickname).text, normalise_name(name)) is None


def test_emails_compare_without_case_or_whitespace() -> None:
    assert normalise_email("  Li.Wei@QQ.com ") == "li.wei@qq.com"
    assert normalise_email("li .wei@qq.com") == "li.wei@qq.com"
    assert normalise_email("not-an-address") is None
    assert normalise_email("") is None
