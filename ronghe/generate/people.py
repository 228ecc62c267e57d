"""People and the records they leave: store member cards and platform accounts.

One person may hold a member card (sometimes two: people register twice), a
MALL account (phone, email, WeChat union_id) and TMALL/JD accounts (masked
phone, nickname or real name). Each record writes the name its own way.
Family members share a phone; phone numbers of long-inactive people are
re-issued to newcomers. Half of the 90-day population existed before the
window; the rest arrive day by day and register over the following weeks.
"""

from __future__ import annotations

import base64
import bisect
import hashlib
from dataclasses import dataclass

import numpy as np

from ronghe.generate import names
from ronghe.generate.clock import DAY
from ronghe.generate.phones import PHONE_FORMS, format_phone, masked, phone_numbers
from ronghe.generate.products import PLATFORMS
from ronghe.generate.stores import Network
from ronghe.generate.streams import mix64, permute8_one, pick, stream
from ronghe.generate.table import Table
from ronghe.generate.volumes import Volumes

RECORD_SHARE = {"MEMBER": 0.58, "MALL": 0.38, "TMALL": 0.32, "JD": 0.26}
HISTORY_DAYS = 3 * 365
INACTIVE_HISTORIC_SHARE = 0.3
HOUSEHOLD_SHARE = 0.05
SAME_SURNAME_IN_HOUSEHOLD = 0.6
RECYCLED_PHONE_SHARE = 0.015
DUPLICATE_MEMBER_SHARE = 0.045
DUPLICATE_NEW_PHONE_SHARE = 0.35
MINORITY_SHARE = 0.006
COMPOUND_SURNAME_SHARE = 0.01

# Name variant weights (EXACT, SPACED, TRADITIONAL, HOMOPHONE, FULL_WIDTH) per kind of record.
VARIANT_WEIGHTS = {
    "MEMBER": (0.82, 0.06, 0.04, 0.05, 0.03),
    "MALL": (0.80, 0.05, 0.07, 0.05, 0.03),
    "MARKET": (0.85, 0.04, 0.05, 0.04, 0.02),
}
VARIANT_CUM = {kind: np.cumsum(w) for kind, w in VARIANT_WEIGHTS.items()}
REAL_NAME_SHARE = {"MALL": 0.88, "TMALL": 0.35, "JD": 0.4}
EMAIL_SHARE = 0.75
UNION_ID_SHARE = 0.7
# Share of a platform's active accounts that change their profile on a given day.
PROFILE_UPDATE_RATE = 0.001
# Phones at the till and in members.csv: plain most of the time.
PHONE_FORM_CUM = (0.55, 0.70, 0.82, 0.92, 1.0)


@dataclass(frozen=True)
class Registration:
    kind: str
    """MEMBER or a platform."""
    record: int
    """Index into People.members or People.customers[kind]."""


class People:
    """All persons and records; grows as the days advance."""

    def __init__(self, seed: int, volumes: Volumes, network: Network) -> None:
        self.seed = seed
        self.volumes = volumes
        self.network = network
        self.persons = Table(
            surname=np.int16,
            g1=np.int16,
            g2=np.int16,
            minority=np.bool_,
            gender=np.int8,
            birth_day=np.int32,
            phone=np.int64,
            home_store=np.int32,
            active=np.bool_,
            arrival_day=np.int32,
            card=np.int32,
            mall=np.int32,
        )
        self.members = Table(
            seq=np.int64,
            person=np.int32,
            store=np.int32,
            registered_t=np.int64,
            phone=np.int64,
            variant=np.int8,
            aux=np.int64,
            gender_rec=np.bool_,
            birth_rec=np.bool_,
            first_use_day=np.int32,
        )
        self.customers = {
            p: Table(
                seq=np.int64,
                person=np.int32,
                registered_t=np.int64,
                updated_t=np.int64,
                phone=np.int64,
                variant=np.int8,
                aux=np.int64,
                real_name=np.bool_,
                has_email=np.bool_,
                has_union=np.bool_,
                email_rev=np.int16,
            )
            for p in PLATFORMS
        }
        self.store_pool: list[list[int]] = [[] for _ in network.stores]
        self.buyer_pool: dict[str, list[int]] = {p: [] for p in PLATFORMS}
        self._phone_counter = 0
        self._pending: dict[int, list[tuple[str, int, int, int]]] = {}
        self._recyclable: list[int] = []
        self._recycle_cursor = 0
        self._member_seq = 0
        self._customer_seq = dict.fromkeys(PLATFORMS, 0)
        self._build_history()

    # ----------------------------------------------------------------- creation
    def _new_phones(self, n: int) -> np.ndarray:
        numbers = phone_numbers(np.arange(self._phone_counter, self._phone_counter + n), self.seed)
        self._phone_counter += n
        return numbers

    def _create_persons(
        self, rng: np.random.Generator, n: int, day: int, candidate_stores: np.ndarray
    ) -> np.ndarray:
        existing = self.persons.size
        gender = (rng.random(n) < 0.5).astype(np.int8)
        minority = rng.random(n) < MINORITY_SHARE
        surname = rng.zipf(1.25, size=n) - 1
        surname = np.where(
            surname < len(names.SURNAMES), surname, rng.integers(0, len(names.SURNAMES), size=n)
        )
        compound = rng.random(n) < COMPOUND_SURNAME_SHARE
        surname = np.where(
            compound,
            len(names.SURNAMES) + rng.integers(0, len(names.COMPOUND_SURNAMES), size=n),
            surname,
        )
        low = np.where(gender == 0, names.MALE_RANGE[0], names.FEMALE_RANGE[0])
        high = np.where(gender == 0, names.MALE_RANGE[1], names.FEMALE_RANGE[1])
        g1 = rng.integers(low, high)
        g2 = np.where(rng.random(n) < 0.72, rng.integers(low, high), -1)
        surname = np.where(minority, rng.integers(0, len(names.MINORITY_FIRST), size=n), surname)
        g1 = np.where(minority, rng.integers(0, len(names.MINORITY_LAST), size=n), g1)
        age_days = rng.integers(16 * 365, 68 * 365, size=n)
        birth_day = day - age_days
        weights = np.array([self.network.stores[s].traffic for s in candidate_stores])
        home = candidate_stores[
            rng.choice(len(candidate_stores), size=n, p=weights / weights.sum())
        ]
        phone = self._new_phones(n)

        # Households: share a phone (and home) with an existing person, often the same surname.
        household = rng.random(n) < HOUSEHOLD_SHARE
        pool_size = existing + n
        for i in np.flatnonzero(household):
            head = int(rng.integers(0, max(1, existing + i)))
            if head >= existing + i:
                continue
            if head >= existing:
                k = head - existing
                phone[i], home[i] = phone[k], home[k]
                same = surname[k]
            else:
                phone[i] = self.persons["phone"][head]
                home[i] = self.persons["home_store"][head]
                same = self.persons["surname"][head]
            if rng.random() < SAME_SURNAME_IN_HOUSEHOLD and not minority[i]:
                surname[i] = same
        del pool_size
        # Recycled numbers: a newcomer gets the number of a long-inactive person.
        if day >= 0 and self._recyclable:
            for i in np.flatnonzero(rng.random(n) < RECYCLED_PHONE_SHARE):
                if self._recycle_cursor >= len(self._recyclable):
                    break
                old = self._recyclable[self._recycle_cursor]
                self._recycle_cursor += 1
                phone[i] = self.persons["phone"][old]
                household[i] = True
        return self.persons.append(
            surname=surname,
            g1=g1,
            g2=g2,
            minority=minority,
            gender=gender,
            birth_day=birth_day,
            phone=phone,
            home_store=home,
            active=True,
            arrival_day=day,
            card=-1,
            mall=-1,
        )

    def _build_history(self) -> None:
        rng = stream(self.seed, "people", "history")
        stores = np.array([s.index for s in self.network.stores if s.opened_day < 0])
        n = self.volumes.historic_people
        ids = self._create_persons(rng, n, -HISTORY_DAYS, stores)
        active = rng.random(n) >= INACTIVE_HISTORIC_SHARE
        self.persons["active"][ids] = active
        self.persons["arrival_day"][ids] = -rng.integers(30, HISTORY_DAYS, size=n)
        kinds = self._record_kinds(rng, n)
        events: list[tuple[int, str, int, int]] = []
        for person, row in zip(ids.tolist(), kinds, strict=True):
            arrival = int(self.persons["arrival_day"][person])
            for kind in row:
                t = (arrival + int(rng.integers(0, -arrival))) * DAY + int(
                    rng.integers(9 * 3600, 22 * 3600)
                )
                events.append((t, kind, person, int(self.persons["home_store"][person])))
                if kind == "MEMBER" and rng.random() < DUPLICATE_MEMBER_SHARE:
                    later = t + int(rng.integers(20, 200)) * DAY
                    events.append((later, "MEMBER2", person, self._other_store(rng, person)))
        events.sort()
        for t, kind, person, store in events:
            if t >= 0:
                self._schedule(t // DAY, kind, person, t, store)
            else:
                self._register(rng, kind, person, t, store)
        # Long-inactive people with a MALL account give their numbers back to the operator.
        inactive = ids[~active]
        with_mall = [int(p) for p in inactive if self.persons["mall"][p] >= 0]
        self._recyclable = [with_mall[i] for i in rng.permutation(len(with_mall))]

    def _record_kinds(self, rng: np.random.Generator, n: int) -> list[list[str]]:
        draws = {k: rng.random(n) < share for k, share in RECORD_SHARE.items()}
        rows = []
        for i in range(n):
            kinds = [k for k in RECORD_SHARE if draws[k][i]]
            rows.append(kinds or ["MEMBER"])
        return rows

    def _other_store(self, rng: np.random.Generator, person: int) -> int:
        home = int(self.persons["home_store"][person])
        if rng.random() < 0.6:
            return home
        city = self.network.stores[home].city
        same_city = [s.index for s in self.network.stores if s.city == city]
        return same_city[rng.integers(len(same_city))]

    def _schedule(self, day: int, kind: str, person: int, t: int, store: int) -> None:
        self._pending.setdefault(day, []).append((kind, person, t, store))

    # ------------------------------------------------------------ registration
    def _register(
        self, rng: np.random.Generator, kind: str, person: int, t: int, store: int
    ) -> Registration:
        weights = VARIANT_CUM[
            "MEMBER" if kind.startswith("MEMBER") else "MALL" if kind == "MALL" else "MARKET"
        ]
        variant = pick(rng, weights)
        aux = int(rng.integers(0, 2**62))
        phone = int(self.persons["phone"][person])
        active = bool(self.persons["active"][person])
        if kind.startswith("MEMBER"):
            if kind == "MEMBER2" and rng.random() < DUPLICATE_NEW_PHONE_SHARE:
                phone = int(self._new_phones(1)[0])
                self.persons["phone"][person] = phone
            record = self.members.append_one(
                seq=self._member_seq,
                person=person,
                store=store,
                registered_t=t,
                phone=phone,
                variant=variant,
                aux=aux,
                gender_rec=rng.random() < 0.85,
                birth_rec=rng.random() < 0.7,
                first_use_day=2**30,
            )
            self._member_seq += 1
            self.persons["card"][person] = record
            if active:
                self.store_pool[store].append(record)
            return Registration("MEMBER", record)
        table = self.customers[kind]
        updated = t if t >= 0 else min(-DAY, t + int(rng.integers(0, 400)) * DAY)
        record = table.append_one(
            seq=self._customer_seq[kind],
            person=person,
            registered_t=t,
            updated_t=updated,
            phone=phone,
            variant=variant,
            aux=aux,
            real_name=rng.random() < REAL_NAME_SHARE[kind],
            has_email=rng.random() < EMAIL_SHARE,
            has_union=rng.random() < UNION_ID_SHARE,
        )
        self._customer_seq[kind] += 1
        if kind == "MALL":
            self.persons["mall"][person] = record
        if active:
            self.buyer_pool[kind].append(record)
        return Registration(kind, record)

    def advance(self, day: int) -> tuple[list[Registration], list[Registration]]:
        """Newcomers arrive; registrations due today happen; some accounts change their profile.

        Returns today's registrations and today's profile changes.
        """
        rng = stream(self.seed, "day", day, "people")
        trading = np.array([s.index for s in self.network.stores if s.trades_on(day)])
        n = int(rng.poisson(self.volumes.arrivals_per_day))
        ids = self._create_persons(rng, n, day, trading)
        for person, kinds in zip(ids.tolist(), self._record_kinds(rng, n), strict=True):
            start = day * DAY
            for rank, kind in enumerate(kinds):
                offset = 0 if rank == 0 or rng.random() < 0.4 else int(rng.integers(1, 30))
                t = start + offset * DAY + int(rng.integers(10 * 3600, 21 * 3600))
                self._schedule(
                    day + offset, kind, person, t, int(self.persons["home_store"][person])
                )
                if kind == "MEMBER" and rng.random() < DUPLICATE_MEMBER_SHARE:
                    later = t + int(rng.integers(5, 60)) * DAY
                    self._schedule(
                        later // DAY, "MEMBER2", person, later, self._other_store(rng, person)
                    )
        done = []
        for kind, person, t, store in sorted(self._pending.pop(day, [])):
            if kind.startswith("MEMBER") and not self.network.stores[store].trades_on(day):
                self._schedule(day + 1, kind, person, t + DAY, store)
                continue
            done.append(self._register(rng, kind, person, t, store))
        return done, self._profile_updates(rng, day)

    def _profile_updates(self, rng: np.random.Generator, day: int) -> list[Registration]:
        """Accounts that change e-mail, phone number or name today (a new version of the record)."""
        changed: list[Registration] = []
        for platform in PLATFORMS:
            pool = self.buyer_pool[platform]
            c = self.customers[platform]
            for _ in range(int(rng.poisson(len(pool) * PROFILE_UPDATE_RATE))):
                record = pool[rng.integers(len(pool))]
                t = day * DAY + int(rng.integers(8 * 3600, 23 * 3600))
                if t <= c["updated_t"][record]:
                    continue
                roll = rng.random()
                if platform == "MALL" and roll < 0.35:
                    c["has_email"][record] = True
                    c["email_rev"][record] += 1
                elif platform == "MALL" and roll < 0.55:
                    phone = int(self._new_phones(1)[0])
                    c["phone"][record] = phone
                    self.persons["phone"][int(c["person"][record])] = phone
                else:
                    c["aux"][record] = int(rng.integers(0, 2**62))
                    c["variant"][record] = pick(
                        rng, VARIANT_CUM["MALL" if platform == "MALL" else "MARKET"]
                    )
                c["updated_t"][record] = t
                changed.append(Registration(platform, record))
        return changed

    # ------------------------------------------------------------- rendering
    def name_parts(self, person: int) -> tuple[str, str]:
        p = self.persons
        if p["minority"][person]:
            return names.MINORITY_FIRST[p["surname"][person]], "·" + names.MINORITY_LAST[
                p["g1"][person]
            ]
        s = int(p["surname"][person])
        surname = (
            names.SURNAMES[s]
            if s < len(names.SURNAMES)
            else names.COMPOUND_SURNAMES[s - len(names.SURNAMES)]
        )
        given = names.GIVEN_POOL[p["g1"][person]]
        if p["g2"][person] >= 0:
            given += names.GIVEN_POOL[p["g2"][person]]
        return surname, given

    def card_no(self, member: int) -> str:
        return f"88{permute8_one(int(self.members['seq'][member]), self.seed):08d}"

    def member_name(self, member: int) -> str:
        surname, given = self.name_parts(int(self.members["person"][member]))
        return names.render(
            surname, given, int(self.members["variant"][member]), int(self.members["aux"][member])
        )

    @staticmethod
    def phone_form(aux: int) -> int:
        r = mix64(aux, 0x9F0) % 1000 / 1000
        return min(PHONE_FORMS - 1, bisect.bisect_right(PHONE_FORM_CUM, r))

    def member_row(self, member: int) -> dict[str, object]:
        m = self.members
        person = int(m["person"][member])
        aux = int(m["aux"][member])
        birth = int(self.persons["birth_day"][person]) if m["birth_rec"][member] else None
        gender = ("M", "F")[int(self.persons["gender"][person])] if m["gender_rec"][member] else ""
        return {
            "member_card_no": self.card_no(member),
            "name": self.member_name(member),
            "phone": format_phone(int(m["phone"][member]), self.phone_form(aux)),
            "gender": gender,
            "birth_day": birth,
            "store": int(m["store"][member]),
            "registered_t": int(m["registered_t"][member]),
        }

    def buyer_id(self, platform: str, record: int) -> str:
        seq = int(self.customers[platform]["seq"][record])
        scrambled = permute8_one(seq, self.seed + len(platform))
        if platform == "MALL":
            return f"U{10_000_000 + seq:08d}"
        if platform == "TMALL":
            return f"{2_200_000_000 + scrambled}"
        return f"jd_{scrambled:08d}"

    def customer_name(self, platform: str, record: int) -> str:
        c = self.customers[platform]
        surname, given = self.name_parts(int(c["person"][record]))
        aux = int(c["aux"][record])
        if not c["real_name"][record]:
            return names.nickname(aux, given, platform)
        return names.render(surname, given, int(c["variant"][record]), aux)

    def customer_email(self, platform: str, record: int) -> str | None:
        c = self.customers[platform]
        if platform != "MALL" or not c["has_email"][record]:
            return None
        surname, given = self.name_parts(int(c["person"][record]))
        revision = int(c["email_rev"][record])
        return names.email(
            surname, given, int(c["person"][record]) * 7 + self.seed + 1_000 * revision
        )

    def union_id(self, platform: str, record: int) -> str | None:
        """A WeChat union_id: one per person, the same on every account of that person."""
        c = self.customers[platform]
        if platform != "MALL" or not c["has_union"][record]:
            return None
        digest = hashlib.blake2b(
            f"{self.seed}/{int(c['person'][record])}".encode(), digest_size=21
        ).digest()
        return "o" + base64.urlsafe_b64encode(digest).decode()[:27]

    def customer_phone(self, platform: str, record: int) -> str:
        number = int(self.customers[platform]["phone"][record])
        return str(number) if platform == "MALL" else masked(number)

    def customer_province_city(self, platform: str, record: int) -> tuple[str, str]:
        person = int(self.customers[platform]["person"][record])
        store = self.network.stores[int(self.persons["home_store"][person])]
        return store.province, store.city

    def till_phone(self, member_or_person_phone: int, aux: int) -> str:
        return format_phone(member_or_person_phone, self.phone_form(aux))
