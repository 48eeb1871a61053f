"""Fingerspelling: per-frame letters -> a word stream.

:class:`Speller` is fed, frame by frame, the letter seen (or ``None``) and the frame's time. It
turns letters into text:

- a letter becomes part of the word once it has been seen, without interruption, for ``hold``
  seconds;
- the same letter twice in a row (the two L's of ``HELLO``) needs a release in between: another
  letter or no letter for at least ``release`` seconds, then the letter held again (a single
  flickering frame does not double a letter);
- ``pause`` seconds without any letter (no hand, or no letter confident enough) end the word.

:meth:`Speller.update` returns a :class:`SpellState`: the word so far, whether a letter was just
added and whether the word just ended (its last text is then in ``ended_word``). Pure logic on
the source clock, no gesturekit types: the ``asl`` classifier turns it into ``asl_word``
detections.
"""

from __future__ import annotations

from dataclasses import dataclass

from gesturekit import InputError

__all__ = ["SpellState", "Speller", "spell"]

#: Longest word kept (longer words keep their last ``MAX_WORD`` letters).
MAX_WORD = 64


@dataclass(frozen=True)
class SpellState:
    """What one :meth:`Speller.update` call found.

    :param word: the word so far (``""`` between words).
    :param added: the letter just added to the word (``""`` if none).
    :param ended_word: the word that just ended (``""`` if none ended in this call).
    """

    word: str
    added: str = ""
    ended_word: str = ""


class Speller:
    """Letters held for a while become a word; a pause ends it.

    :param hold: seconds a letter must be seen without interruption to count.
    :param release: seconds of another letter or no letter before the same letter counts again.
    :param pause: seconds without any letter that end the word.
    """

    def __init__(self, hold: float = 0.4, release: float = 0.2, pause: float = 1.0) -> None:
        for name, v in (("hold", hold), ("release", release), ("pause", pause)):
            if not isinstance(v, (int, float)) or v != v or v < 0:
                raise InputError(f"speller: {name} must be a number >= 0, got {v!r}")
        if pause <= release:
            raise InputError(f"speller: pause ({pause}) must be longer than release ({release})")
        self.hold, self.release, self.pause = float(hold), float(release), float(pause)
        self.reset()

    def reset(self) -> None:
        """Forget the word and everything seen."""
        self.word = ""
        self._cand: str | None = None   # the letter being seen now
        self._since = 0.0               # since when it has been seen
        self._last_letter_t: float | None = None  # last time any letter was seen
        self._committed = ""            # the last letter added to the word
        self._away_since: float | None = None  # since when the committed letter has not been seen
        self._t: float | None = None

    @property
    def last_time(self) -> float | None:
        """The time of the last :meth:`update` (``None`` before the first)."""
        return self._t

    def update(self, t: float, letter: str | None) -> SpellState:
        """Feed one frame: its time (seconds, non-decreasing) and the letter seen (``None``: none).

        :raises InputError: when time goes backwards.
        """
        t = float(t)
        if self._t is not None and t < self._t - 1e-9:
            raise InputError(f"speller: time went backwards ({t} < {self._t})")
        self._t = t
        letter = letter or None
        ended = ""
        # the word ends after a pause without letters
        if letter is None:
            if self.word and self._last_letter_t is not None and t - self._last_letter_t >= self.pause - 1e-9:
                ended, self.word = self.word, ""
                self._committed = ""
        else:
            self._last_letter_t = t
        # release of the last committed letter
        if letter != self._committed:
            if self._away_since is None:
                self._away_since = t
        else:
            if self._away_since is not None and t - self._away_since >= self.release - 1e-9:
                self._committed = ""  # released long enough: the same letter may count again
            self._away_since = None
        # the letter being held
        if letter != self._cand:
            self._cand, self._since = letter, t
        added = ""
        if (letter is not None and letter != self._committed and t - self._since >= self.hold - 1e-9):
            self.word = (self.word + letter)[-MAX_WORD:]
            self._committed, self._away_since, added = letter, None, letter
        return SpellState(self.word, added, ended)


def spell(times: list[float], letters: list[str | None], hold: float = 0.4, release: float = 0.2,
          pause: float = 1.0) -> list[str]:
    """The words spelled by a whole sequence (the last one too, even without a final pause)."""
    if len(times) != len(letters):
        raise InputError(f"spell: {len(times)} times but {len(letters)} letters")
    sp = Speller(hold, release, pause)
    words = []
    for t, c in zip(times, letters, strict=True):
        st = sp.update(t, c)
        if st.ended_word:
            words.append(st.ended_word)
    if sp.word:
        words.append(sp.word)
    return words
