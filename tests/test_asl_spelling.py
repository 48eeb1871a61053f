"""The fingerspelling word stream (gesturekit_plugins.asl_spelling) on constructed sequences."""

from __future__ import annotations

import numpy as np
import pytest
from gesturekit_plugins.asl_spelling import Speller, spell

from gesturekit import InputError

FPS = 25.0


def seq(*parts: tuple[str | None, float]) -> tuple[list[float], list[str | None]]:
    """Frames at 25 fps: (letter or None, seconds) parts one after another."""
    letters: list[str | None] = []
    for letter, secs in parts:
        letters += [letter] * round(secs * FPS)
    return [i / FPS for i in range(len(letters))], letters


def test_held_letters_make_a_word_and_a_pause_ends_it():
    t, c = seq(("C", 0.6), ("A", 0.6), ("T", 0.6), (None, 1.2), ("D", 0.6), ("O", 0.6), ("G", 0.6))
    assert spell(t, c) == ["CAT", "DOG"]


def test_short_glimpses_do_not_count():
    t, c = seq(("H", 0.6), ("X", 0.2), ("I", 0.6), ("Q", 0.12))
    assert spell(t, c) == ["HI"]


def test_repeated_letter_needs_release_and_repeat():
    # holding L for a long time is one L; L, release, L again is two
    t, c = seq(("L", 3.0))
    assert spell(t, c) == ["L"]
    t, c = seq(("H", 0.6), ("E", 0.6), ("L", 0.6), (None, 0.4), ("L", 0.6), ("O", 0.6))
    assert spell(t, c) == ["HELLO"]
    # a one-frame flicker is not a release
    t, c = seq(("L", 0.6), (None, 0.04), ("L", 0.6))
    assert spell(t, c) == ["L"]


def test_pause_shorter_than_the_limit_keeps_the_word():
    t, c = seq(("N", 0.6), (None, 0.6), ("O", 0.6))
    assert spell(t, c) == ["NO"]


def test_states_report_added_letters_and_the_ended_word():
    sp = Speller(hold=0.4, release=0.2, pause=1.0)
    t, c = seq(("O", 0.5), ("K", 0.5), (None, 1.1))
    states = [sp.update(a, b) for a, b in zip(t, c, strict=True)]
    added = [(round(t[i], 2), s.added) for i, s in enumerate(states) if s.added]
    assert added == [(0.4, "O"), (0.88, "K")]  # O is 12 frames (0.48 s), K counts 0.4 s later
    assert [s.ended_word for s in states if s.ended_word] == ["OK"]
    assert states[-1].word == ""


def test_bad_input():
    with pytest.raises(InputError, match="hold"):
        Speller(hold=-1)
    with pytest.raises(InputError, match="pause"):
        Speller(release=0.5, pause=0.4)
    sp = Speller()
    sp.update(1.0, "A")
    with pytest.raises(InputError, match="backwards"):
        sp.update(0.5, "A")
    with pytest.raises(InputError, match="letters"):
        spell([0.0, 0.1], ["A"])


def test_random_sequences_are_stable():
    rng = np.random.default_rng(0)
    for _ in range(20):
        letters = [str(x) if x != "-" else None for x in rng.choice(list("AB-"), 200)]
        t = [i / FPS for i in range(200)]
        words = spell(t, letters)
        assert all(w and set(w) <= {"A", "B"} for w in words)
        assert spell(t, letters) == words
