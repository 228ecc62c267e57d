"""Chinese personal names and the ways the same name gets written differently.

A person has one canonical name (surname + one or two given characters, or
a transliterated minority name with a middle dot). Each source record writes
it with an independently drawn *variant*: as is, with stray spacing, in
traditional script (OpenCC), with a same-pinyin character typed by mistake
(pypinyin), or with full-width characters. Duplicated registrations draw
their variant like every other record, so nothing marks them.
"""

from __future__ import annotations

from functools import cache

from ronghe.generate.streams import mix64

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "东方")
MALE_GIVEN = (
    "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林欢阳建国峰亮成东文博志晨子轩豪睿航泽宏天"
    "海诚坤振锋彬毅翔然铭哲瑞嘉荣昊晖楠"
)
FEMALE_GIVEN = (
    "芳娜敏静丽艳娟霞燕玲桂英秀兰萍红婷雪琳慧莹倩颖洁琴云梅丹欣怡佳悦雯晶璐瑶诗涵梦蕾薇月妍婉琪蓉琦馨菲"
    "思露萱岚茜凤"
)
GIVEN_POOL = MALE_GIVEN + FEMALE_GIVEN
MALE_RANGE = (0, len(MALE_GIVEN))
FEMALE_RANGE = (len(MALE_GIVEN), len(GIVEN_POOL))

# Transliterated names (first, family) joined by a middle dot.
MINORITY_FIRST = ("阿卜杜拉", "古丽", "热依拉", "艾力", "买买提", "阿依古丽", "努尔", "迪丽")
MINORITY_LAST = ("买买提", "艾力", "吐尔逊", "热合曼", "阿不都", "依明")

EXACT, SPACED, TRADITIONAL, HOMOPHONE, FULL_WIDTH = range(5)

NICK_ADJ = (
    "快乐的",
    "安静的",
    "爱笑的",
    "追风",
    "小小",
    "奔跑的",
    "喜欢",
    "不睡觉的",
    "会飞的",
    "超级",
)
NICK_NOUN = (
    "小猫",
    "少年",
    "橙子",
    "大白",
    "兔子",
    "咸鱼",
    "星星",
    "糖果",
    "熊猫",
    "柠檬",
    "木头",
    "阿狸",
)
EMAIL_DOMAINS = (
    "163.com",
    "qq.com",
    "126.com",
    "sina.com",
    "gmail.com",
    "foxmail.com",
    "hotmail.com",
)

_FULL_WIDTH = str.maketrans(
    {
        c: chr(ord(c) + 0xFEE0)
        for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    }
)


def _gb2312_level1() -> list[str]:
    chars = []
    for hi in range(0xB0, 0xD8):
        for lo in range(0xA1, 0xFF):
            try:
                chars.append(bytes((hi, lo)).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    return chars


@cache
def _pinyin_of() -> dict[str, str]:
    from pypinyin import Style, lazy_pinyin

    chars = (
        set(_gb2312_level1()) | set(GIVEN_POOL) | set(SURNAMES) | set("".join(COMPOUND_SURNAMES))
    )
    return {c: lazy_pinyin(c, style=Style.NORMAL)[0] for c in sorted(chars)}


@cache
def _homophones() -> dict[str, tuple[str, ...]]:
    """Common characters sharing a given-name character's toneless pinyin."""
    by_sound: dict[str, list[str]] = {}
    level1 = set(_gb2312_level1())
    for char, sound in _pinyin_of().items():
        if char in level1:
            by_sound.setdefault(sound, []).append(char)
    table = {}
    for char in GIVEN_POOL:
        others = tuple(c for c in by_sound.get(_pinyin_of()[char], ()) if c != char)
        if others:
            table[char] = others
    return table


@cache
def _to_traditional():
    import opencc

    return opencc.OpenCC("s2t").convert


def pinyin(text: str) -> str:
    table = _pinyin_of()
    return "".join(table.get(c, "") for c in text)


def render(surname: str, given: str, variant: int, aux: int) -> str:
    """The name as one record writes it. `aux` is a random integer for the variant's choices."""
    dotted = "·" in given
    if variant == SPACED:
        choice = aux % 4
        if dotted:
            return (surname + given).replace("·", " · ") if choice < 2 else surname + given + " "
        if choice == 0:
            return f"{surname} {given}"
        if choice == 1:
            return f"{surname}{given} "
        if choice == 2:
            return f" {surname}{given}"
        return f"{surname}  {given}"
    if variant == TRADITIONAL:
        return _to_traditional()(surname + given)
    if variant == HOMOPHONE and not dotted:
        table = _homophones()
        positions = [i for i, c in enumerate(given) if c in table]
        if positions:
            i = positions[aux % len(positions)]
            options = table[given[i]]
            wrong = options[(aux // 7) % len(options)]
            return surname + given[:i] + wrong + given[i + 1 :]
        return surname + given
    if variant == FULL_WIDTH:
        if dotted:
            return (surname + given).replace("·", "．")
        return f"{surname}\u3000{given}"
    return surname + given


def nickname(aux: int, given: str, platform: str) -> str:
    """A marketplace nickname chosen by `aux`; sometimes built from the person's own name."""
    h = mix64(aux, 0x4E1C)
    roll = h % 100
    if roll < 35:
        return f"{NICK_ADJ[h // 100 % len(NICK_ADJ)]}{NICK_NOUN[h // 10_000 % len(NICK_NOUN)]}"
    if roll < 60:
        prefix = "tb" if platform == "TMALL" else "jd_"
        return f"{prefix}{10**7 + h // 100 % (10**9 - 10**7)}"
    plain = given.replace("·", "")
    if roll < 85:
        handle = f"{pinyin(plain)}{1 + h // 100 % 1999}"
        # Typed with the input method in full-width mode now and then.
        return handle.translate(_FULL_WIDTH) if h // 10**7 % 8 == 0 else handle
    return f"{plain[-1]}{plain[-1]}酱"


def email(surname: str, given: str, aux: int) -> str:
    """An email address chosen by `aux`, usually built from the name's pinyin."""
    h = mix64(aux, 0xE3A1)
    roll = h % 100
    domain = EMAIL_DOMAINS[h // 100 % len(EMAIL_DOMAINS)]
    number = h // 10_000
    if roll < 30:
        return f"{10**7 + number % (10**10 - 10**7)}@qq.com"
    given_py = pinyin(given.replace("·", ""))
    surname_py = pinyin(surname)
    if roll < 60:
        return f"{given_py}.{surname_py}{1 + number % 99}@{domain}"
    if roll < 80:
        return f"{surname_py}{given_py}{1970 + number % 40}@{domain}"
    return f"{surname_py[:1]}{given_py}{100 + number % 900}@{domain}"
