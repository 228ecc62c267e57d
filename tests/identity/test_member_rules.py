"""Matching rules on hand-made records: what must merge and what must stay apart."""

from __future__ import annotations

from ronghe.identity.calibration import calibrate
from tests.identity.builders import CONFIG, Rec, match, queued, records_of, same_person

PHONE = "13800138000"
MASKED = "138****8000"


def crowd(count: int = 3000) -> list[Rec]:
    """Other customers whose phones share the 138 prefix: a mask fits one of them by chance
    with probability count / 10,000 (here 0.3), as in a large estate."""
    phones = (f"138{n * 7919 % 10**8:08d}" for n in range(1, 2 * count))
    others = [phone for phone in phones if not phone.endswith("8000")][:count]
    return [Rec("POS_MEMBER", f"X{n}", name="路人甲", phone=p) for n, p in enumerate(others)]


def test_a_double_registration_with_name_written_differently_is_one_person() -> None:
    outcome, records = match(
        [
            Rec("POS_MEMBER", "C1", name="张伟", phone=PHONE, gender="M", birth_date="1980-05-01"),
            Rec("POS_MEMBER", "C2", name="張 偉", phone="(+86)138 0013 8000", gender="M",
                birth_date="1980-05-01", registered_at="2024-03-01 09:00:00"),
        ]
    )  # fmt: skip
    assert same_person(outcome, records, "C1", "C2")
    assert set(outcome.resolution.matched_by) == {"phone_name"}


def test_a_homophone_typo_with_the_same_phone_is_one_person() -> None:
    outcome, records = match(
        [
            Rec("POS_MEMBER", "C1", name="陈丽华", phone=PHONE),
            Rec("MALL", "B1", name="陈莉华", phone="+86 13800138000", email="lh@qq.com"),
        ]
    )
    assert same_person(outcome, records, "C1", "B1")
    assert set(outcome.resolution.matched_by) == {"phone_homophone"}


def test_family_members_sharing_a_phone_are_not_merged() -> None:
    outcome, records = match(
        [
            Rec("POS_MEMBER", "DAD", name="张伟", phone=PHONE, gender="M", birth_date="1968-02-03"),
            Rec("POS_MEMBER", "KID", name="张丽", phone=PHONE, gender="F", birth_date="1998-07-09"),
            Rec("MALL", "KID-ONLINE", name="张丽", phone=PHONE),
        ]
    )
    assert not same_person(outcome, records, "DAD", "KID")
    assert same_person(outcome, records, "KID", "KID-ONLINE")
    assert not same_person(outcome, records, "DAD", "KID-ONLINE")


def test_a_nickname_buyer_on_a_shared_family_phone_is_left_for_review() -> None:
    outcome, records = match(
        [
            Rec("POS_MEMBER", "DAD", name="张伟", phone=PHONE, city="上海市",
                seen=[{"evidence_source": "TILL", "phone": PHONE, "first": "2024-05-01 10:00:00"}]),
            Rec("POS_MEMBER", "MUM", name="李芳", phone=PHONE, city="上海市",
                seen=[{"evidence_source": "TILL", "phone": PHONE, "first": "2024-06-01 10:00:00"}]),
            Rec("TMALL", "tb1", name="快乐的小猫", phone=MASKED,
                seen=[{"phone": MASKED, "city": "上海市", "first": "2024-04-01 10:00:00"}]),
        ]
    )  # fmt: skip
    assert not same_person(outcome, records, "tb1", "DAD")
    assert not same_person(outcome, records, "tb1", "MUM")
    assert queued(outcome, records, "tb1", "DAD") and queued(outcome, records, "tb1", "MUM")


def test_a_nickname_built_from_one_family_members_name_joins_that_member() -> None:
    family = [
        Rec("POS_MEMBER", "DAD", name="张伟", phone=PHONE, city="上海市"),
        Rec("POS_MEMBER", "MUM", name="李芳", phone=PHONE, city="上海市"),
    ]
    seen = [{"phone": MASKED, "city": "上海市", "first": "2024-04-01 10:00:00"}]
    outcome, records = match(
        [*family, Rec("TMALL", "tb1", name="fang1988", phone=MASKED, seen=seen),
         Rec("JD", "jd1", name="伟伟酱", phone=MASKED, seen=seen)]
    )  # fmt: skip
    assert same_person(outcome, records, "tb1", "MUM")
    assert same_person(outcome, records, "jd1", "DAD")
    assert not same_person(outcome, records, "tb1", "DAD")


def test_in_a_crowded_mask_space_a_nickname_buyer_is_weighed_by_the_name_it_is_built_from() -> None:
    person = Rec("POS_MEMBER", "C1", name="周杰", phone=PHONE)
    seen = [{"phone": MASKED, "first": "2024-01-05 10:00:00"}]
    for nickname, joins in (("jie2024", True), ("奔跑的橙子", False), ("xiaofang88", False)):
        buyer = Rec("TMALL", "tb1", name=nickname, phone=MASKED, seen=seen)
        outcome, records = match([person, buyer, *crowd()])
        assert same_person(outcome, records, "C1", "tb1") is joins
        # a nickname that says nothing leaves the pair for review; one built from
        # another person's name counts against it
        assert queued(outcome, records, "C1", "tb1") is (nickname == "奔跑的橙子")


def test_a_recycled_phone_links_buyers_to_the_holder_of_their_time() -> None:
    outcome, records = match(
        [
            Rec("POS_MEMBER", "OLD", name="李强", phone=PHONE, registered_at="2015-03-01 10:00:00",
                seen=[{"evidence_source": "TILL", "phone": PHONE, "first": "2015-06-01 10:00:00",
                       "last": "2016-01-10 10:00:00"}]),
            Rec("POS_MEMBER", "NEW", name="王芳", phone=PHONE, registered_at="2022-04-01 10:00:00"),
            Rec("TMALL", "tb-now", name="tb88231", phone=MASKED, registered_at="2023-02-01 10:00",
                seen=[{"phone": MASKED, "first": "2023-02-03 10:00", "last": "2024-01-01 10:00"}]),
            Rec("JD", "jd-then", name="jd_7781", phone=MASKED, registered_at="2015-04-01 10:00:00",
                seen=[{"phone": MASKED, "first": "2015-04-02 10:00:00"}]),
        ]
    )  # fmt: skip
    assert not same_person(outcome, records, "OLD", "NEW")
    assert same_person(outcome, records, "tb-now", "NEW")
    assert same_person(outcome, records, "jd-then", "OLD")


def test_a_phone_taken_over_by_a_new_name_does_not_merge_on_the_phone_alone() -> None:
    outcome, records = match(
        [
            Rec("POS_MEMBER", "OLD", name="李强", phone=PHONE, registered_at="2014-01-01 10:00:00"),
            Rec("MALL", "NEW", name="王芳", phone=PHONE, registered_at="2023-01-01 10:00:00"),
        ]
    )
    assert not same_person(outcome, records, "OLD", "NEW")


def test_a_shared_union_id_is_one_person_whatever_the_rest_says() -> None:
    outcome, records = match(
        [
            Rec("MALL", "B1", name="快乐的小猫", email="a@qq.com", union_id="oU-1"),
            Rec("MALL", "B2", name="王芳", email="b@163.com", phone="13911112222", union_id="oU-1"),
        ]
    )
    assert same_person(outcome, records, "B1", "B2")
    assert "union_id" in outcome.resolution.matched_by


def test_a_shared_union_id_with_conflicting_names_goes_to_review() -> None:
    outcome, records = match(
        [
            Rec("MALL", "B1", name="张伟", union_id="oU-1"),
            Rec("MALL", "B2", name="李娜", union_id="oU-1"),
        ]
    )
    assert not same_person(outcome, records, "B1", "B2")
    assert queued(outcome, records, "B1", "B2")


def test_different_union_ids_keep_two_accounts_apart_despite_the_same_phone_and_name() -> None:
    outcome, records = match(
        [
            Rec("MALL", "B1", name="张伟", phone=PHONE, union_id="oU-1"),
            Rec("MALL", "B2", name="张伟", phone=PHONE, union_id="oU-2"),
        ]
    )
    assert not same_person(outcome, records, "B1", "B2")


def test_a_masked_phone_with_the_same_real_name_is_one_person() -> None:
    outcome, records = match(
        [
            Rec("POS_MEMBER", "C1", name="周杰", phone=PHONE),
            Rec("JD", "jd1", name="周 杰", phone=MASKED),
        ]
    )
    assert same_person(outcome, records, "C1", "jd1")
    assert "masked_phone_name" in outcome.resolution.matched_by


def test_a_nickname_buyer_whose_masked_phone_fits_one_person_joins_them() -> None:
    outcome, records = match(
        [
            Rec("POS_MEMBER", "C1", name="周杰", phone=PHONE, city="杭州市"),
            Rec("TMALL", "tb1", name="奔跑的橙子", phone=MASKED,
                seen=[{"phone": MASKED, "city": "杭州市", "first": "2024-01-05 10:00:00"}]),
            *crowd(),
        ]
    )  # fmt: skip
    assert outcome.calibration.collision_rate["138"] == 0.3
    assert same_person(outcome, records, "C1", "tb1")


def test_in_a_crowded_mask_space_a_nickname_buyer_far_from_the_fitting_person_is_queued() -> None:
    far = {"phone": MASKED, "city": "乌鲁木齐市", "first": "2024-01-05 10:00:00"}
    buyer = Rec("TMALL", "tb1", name="奔跑的橙子", phone=MASKED, seen=[far])
    person = Rec("POS_MEMBER", "C1", name="周杰", phone=PHONE, city="杭州市")
    outcome, records = match([person, buyer, *crowd()])
    assert not same_person(outcome, records, "C1", "tb1")
    assert queued(outcome, records, "C1", "tb1")
    # in a small estate the same mask is near-certain: few phones could fit it by chance
    outcome, records = match([person, buyer])
    assert same_person(outcome, records, "C1", "tb1")


def test_two_full_phones_that_only_share_a_mask_are_not_compared() -> None:
    outcome, records = match(
        [
            Rec("POS_MEMBER", "C1", name="周杰", phone="13800138000"),
            Rec("POS_MEMBER", "C2", name="周杰", phone="13899998000"),
        ]
    )
    assert not same_person(outcome, records, "C1", "C2")


def test_the_same_name_and_gender_on_one_phone_but_different_birth_dates_stay_apart() -> None:
    outcome, records = match(
        [
            Rec("POS_MEMBER", "C1", name="王伟", phone=PHONE, gender="M", birth_date="1960-01-01"),
            Rec("POS_MEMBER", "C2", name="王伟", phone=PHONE, gender="M", birth_date="1990-01-01"),
        ]
    )
    assert not same_person(outcome, records, "C1", "C2")


def test_a_chain_through_a_nameless_account_cannot_glue_two_people_together() -> None:
    outcome, records = match(
        [
            Rec("POS_MEMBER", "DAD", name="张伟", phone=PHONE, email="family@qq.com"),
            Rec("MALL", "SHARED", name="tb_family", phone=PHONE, email="family@qq.com"),
            Rec("POS_MEMBER", "MUM", name="李芳", email="family@qq.com", phone="13911112222"),
        ]
    )
    assert not same_person(outcome, records, "DAD", "MUM")


def test_a_placeholder_phone_typed_for_many_walk_ins_links_nobody() -> None:
    recs = [Rec("POS_MEMBER", f"C{n}", name="张伟", phone="13900000000") for n in range(20)]
    outcome, _ = match(recs)
    assert len(set(outcome.resolution.cluster_of)) == 20
    assert outcome.placeholder_keys


def test_a_steward_split_keeps_apart_what_the_rules_would_merge() -> None:
    recs = [
        Rec("POS_MEMBER", "C1", name="张伟", phone=PHONE),
        Rec("POS_MEMBER", "C2", name="张伟", phone=PHONE),
    ]
    outcome, records = match(recs, overrides=[("SPLIT", "C1", "C2")])
    assert not same_person(outcome, records, "C1", "C2")


def test_a_steward_merge_joins_what_the_rules_keep_apart() -> None:
    recs = [Rec("POS_MEMBER", "C1", name="张伟", phone=PHONE), Rec("MALL", "B9", name="王芳")]
    outcome, records = match(recs, overrides=[("MERGE", "C1", "B9")])
    assert same_person(outcome, records, "C1", "B9")
    assert "override_merge" in outcome.resolution.matched_by


def test_a_second_registration_under_a_new_phone_is_found_by_name_and_birth_date() -> None:
    born = {"gender": "F", "birth_date": "1991-03-04", "city": "杭州市"}
    first = Rec("POS_MEMBER", "C1", name="欧阳娜娜", phone=PHONE, **born)
    again = Rec("POS_MEMBER", "C2", name="歐陽娜娜", phone="13911112222", **born,
                registered_at="2024-05-01 10:00:00")  # fmt: skip
    others = [
        Rec(
            "POS_MEMBER",
            f"X{n}",
            name="李强",
            phone=f"1370000{n:04d}",
            birth_date=f"19{50 + n % 50}-01-0{1 + n % 9}",
        )
        for n in range(200)
    ]
    outcome, records = match([first, again, *others])
    assert same_person(outcome, records, "C1", "C2")
    assert "name_birth_date" in outcome.resolution.matched_by


def test_a_shared_name_and_birthday_weigh_less_the_more_people_bear_the_name() -> None:
    pair = [
        Rec("POS_MEMBER", "C1", name="王伟", phone=PHONE, gender="M", birth_date="1985-06-01",
            city="北京市"),
        Rec("POS_MEMBER", "C2", name="王伟", phone="13911112222", gender="M",
            birth_date="1985-06-01", city="北京市"),
    ]  # fmt: skip

    def people(name: str) -> list[Rec]:
        return [
            Rec("POS_MEMBER", f"W{n}", name=name, phone=f"1370000{n:04d}",
                birth_date=f"{1950 + n % 50}-{1 + n % 12:02d}-{1 + n % 28:02d}")
            for n in range(2000)
        ]  # fmt: skip

    outcome, records = match([*pair, *people("李强")])
    assert same_person(outcome, records, "C1", "C2")
    outcome, records = match([*pair, *people("王伟")])
    assert not same_person(outcome, records, "C1", "C2")


def test_the_card_shown_when_collecting_an_order_links_a_nickname_buyer_to_the_card() -> None:
    pickup = {"evidence_source": "PICKUP", "card_no": "C1", "first": "2024-03-01 10:00:00"}
    outcome, records = match(
        [
            Rec("POS_MEMBER", "C1"),
            Rec("MALL", "B1", name="tb_88231", email="x@qq.com", seen=[pickup]),
        ]
    )
    assert same_person(outcome, records, "C1", "B1")
    assert "pickup_card" in outcome.resolution.matched_by


def test_a_card_that_redeemed_the_buyers_coupon_links_the_buyer_to_the_card() -> None:
    coupon = {"evidence_source": "COUPON", "card_no": "C1", "first": "2024-03-01 10:00:00"}
    outcome, records = match(
        [
            Rec("POS_MEMBER", "C1", city="上海市"),
            Rec("TMALL", "B1", name="tb_88231", city="上海市", seen=[coupon]),
            Rec("TMALL", "B2", name="tb_55555", city="上海市"),
        ]
    )
    assert same_person(outcome, records, "C1", "B1")
    assert not same_person(outcome, records, "C1", "B2")
    assert "coupon_card" in outcome.resolution.matched_by


def test_a_coupon_card_with_the_same_name_is_deterministic_and_a_different_name_conflicts() -> None:
    coupon = {"evidence_source": "COUPON", "card_no": "C1", "first": "2024-03-01 10:00:00"}
    outcome, records = match(
        [
            Rec("POS_MEMBER", "C1", name="王伟", phone="13800138000"),
            Rec("MALL", "B1", name="王 偉", seen=[coupon]),
            Rec("POS_MEMBER", "C2", name="李娜", phone="13900139000"),
            Rec("JD", "B2", name="张敏", seen=[{**coupon, "card_no": "C2"}]),
        ]
    )
    assert same_person(outcome, records, "C1", "B1")
    assert "coupon_card_name" in outcome.resolution.matched_by
    # a relative redeeming the buyer's coupon: the names keep them apart
    assert not same_person(outcome, records, "C2", "B2")


def test_a_coupon_card_is_not_a_link_between_two_buyers_who_never_showed_it() -> None:
    coupon = {"evidence_source": "COUPON", "card_no": "C9", "first": "2024-03-01 10:00:00"}
    outcome, records = match(
        [
            Rec("TMALL", "B1", name="tb_1", city="上海市", seen=[coupon]),
            Rec("JD", "B2", name="jd_2", city="上海市", seen=[coupon]),
        ]
    )
    assert not same_person(outcome, records, "B1", "B2")


def test_a_nickname_account_on_a_platform_the_phone_holder_already_uses_is_a_relative() -> None:
    city = {"phone": MASKED, "city": "杭州市", "first": "2024-01-05 10:00:00"}
    holder = [
        Rec("POS_MEMBER", "C1", name="周杰", phone=PHONE, city="杭州市"),
        Rec("TMALL", "tb1", name="周杰", phone=MASKED, seen=[city]),
    ]
    relative = Rec("TMALL", "tb2", name="奔跑的橙子", phone=MASKED, seen=[city])
    outcome, records = match([*holder, relative])
    assert same_person(outcome, records, "C1", "tb1")
    assert not same_person(outcome, records, "C1", "tb2")
    assert queued(outcome, records, "C1", "tb2")
    assert any(item.reason == "already holds an account on this platform" for item in
               outcome.resolution.review)  # fmt: skip
    # the same account on another platform is the holder's own
    outcome, records = match([*holder, Rec("JD", "jd2", name="奔跑的橙子", phone=MASKED,
                                           seen=[city])])  # fmt: skip
    assert same_person(outcome, records, "C1", "jd2")


def test_two_nickname_accounts_on_one_platform_and_phone_stay_apart() -> None:
    seen = {"phone": MASKED, "city": "杭州市", "first": "2024-01-05 10:00:00"}
    outcome, records = match(
        [
            Rec("JD", "jd1", name="奔跑的橙子", phone=MASKED, seen=[seen]),
            Rec("JD", "jd2", name="快乐的小猫", phone=MASKED, seen=[seen]),
            Rec("TMALL", "tb1", name="tb123456", phone=MASKED, seen=[seen]),
        ]
    )
    assert not same_person(outcome, records, "jd1", "jd2")
    assert sum(same_person(outcome, records, "tb1", jd) for jd in ("jd1", "jd2")) <= 1


def test_accounts_are_compared_with_other_platforms_so_only_their_masks_crowd_the_space() -> None:
    tmall = [Rec("TMALL", f"t{n}", name="tb_x", phone=f"138****{n:04d}") for n in range(3000)]
    jd = [Rec("JD", f"j{n}", name="jd_x", phone=f"138****{n:04d}") for n in range(1000)]
    calibration = calibrate(records_of([*tmall, *jd]), CONFIG.members)
    assert calibration.masked_collision_rate == {"TMALL:138": 0.1, "JD:138": 0.3}
    # a TMALL-JD pair is weighed against the more crowded side
    crowded = calibration.masked_phones_prior("138-0001", ("TMALL", "JD"))
    assert crowded == calibration.masked_phones_prior("138-0001", ("JD", "JD"))
    assert crowded < calibration.masked_phones_prior("138-0001", ("TMALL", "TMALL"))
