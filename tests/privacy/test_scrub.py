"""The person's email, names and phones are replaced in free text, and nobody else's."""

from __future__ import annotations

from hub.privacy import Person, Pseudonym, mentions, scrub, scrub_json

PERSON = Person(
    email="bob@example.org",
    names=frozenset({"Bob Stone", "Al"}),  # a two-letter name is never looked for in text
    phones=frozenset({"01253 555 0100"}),
)
PSEUDONYM = Pseudonym("7f3a9c2b1d")


def test_the_persons_details_are_replaced_whatever_their_case() -> None:
    text = "Booked by BOB STONE (Bob@Example.org, 01253 555 0100)."
    assert scrub(text, PERSON, PSEUDONYM) == (
        "Booked by Erased person 7f3a9c2b1d (erased-7f3a9c2b1d@erased.invalid, [phone erased])."
    )


def test_other_peoples_details_are_left_alone() -> None:
    text = "jimbob@example.org, bob@example.org.uk, Bob Stoneley, Alan, 01253 555 01009"
    assert scrub(text, PERSON, PSEUDONYM) == text
    assert not mentions(text, PERSON)


def test_json_values_are_scrubbed_and_keys_kept() -> None:
    changes = {"contacts": [None, [["Bob Stone", "bob@example.org", "01253 555 0100", "Chair"]]], "n": 3}
    assert scrub_json(changes, PERSON, PSEUDONYM) == {
        "contacts": [
            None,
            [["Erased person 7f3a9c2b1d", "erased-7f3a9c2b1d@erased.invalid", "[phone erased]", "Chair"]],
        ],
        "n": 3,
    }
