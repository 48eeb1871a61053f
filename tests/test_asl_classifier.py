"""The ``asl`` classifier plugin: letters per hand and the spelled word, on real data."""

from __future__ import annotations

import json

import numpy as np
import pytest
from gesturekit_plugins.asl_classifier import ASL_MODEL, LETTERS, WORD, ASLClassifier, make_asl_classifier

from gesturekit import Frame
from gesturekit.learn import read_card
from gesturekit.learn.features import FEATURE_VERSION
from gesturekit.temporal.engine import TemporalEngine
from gesturekit.values import Hand
from tests.shared_data import data_file


@pytest.fixture(scope="module")
def clip_frames() -> list[Frame]:
    kp = np.array(json.loads(data_file("tracking/asl_hand.full.json").read_text()))[:, :, :2]
    k3 = np.array(json.loads(data_file("tracking/asl_hand_3d.full.json").read_text()))
    return [Frame(index=i, t=i / 25, width=620, height=1080, source="asl_hand",
                  hands=(Hand(1, "right", 1.0, 1.0, kp[i], k3[i]),)) for i in range(len(kp))]


@pytest.fixture(scope="module")
def clf() -> ASLClassifier:
    return ASLClassifier()


def test_shipped_model_card():
    card = read_card(ASL_MODEL)
    assert tuple(card["classes"]) == LETTERS
    assert card["feature_version"] == FEATURE_VERSION
    assert card["use_3d"] is False and card["synthetic_signers"] > 0
    assert "build_asl_model.py" in card["command"] and card["feature_blocks"] == ["dist2", "vert"]


def test_names_and_factory(clf):
    assert clf.names == tuple(f"asl_{c}" for c in LETTERS) + (WORD,)
    c = make_asl_classifier({"type": "asl", "spell": False, "min_score": 0.3})
    assert WORD not in c.names
    with pytest.raises(Exception, match="pause"):
        make_asl_classifier({"release": 1.0, "pause": 0.5})


def test_letters_on_the_real_clip(clip_frames):
    c = ASLClassifier(spell=False, min_score=0.0)
    per_frame = [c.classify(f) for f in clip_frames]
    # at most one letter per hand (none below the model's reject threshold), on most frames one
    assert all(len(d) <= 1 for d in per_frame)
    assert np.mean([len(d) == 1 for d in per_frame]) > 0.7
    assert all(d[0].gesture.startswith("asl_") and d[0].hands == (1,) and 0.5 <= d[0].score <= 1
               for d in per_frame if d)
    letters = [d[0].gesture[4:] if d else "-" for d in per_frame]
    assert set(letters) <= set(LETTERS) | {"-"}
    # a fingerspelling hand holds letters: most frames agree with their neighbour
    same = np.mean([a == b for a, b in zip(letters, letters[1:], strict=False)])
    assert same > 0.75  # measured 0.80 with the shipped model


def test_word_stream_on_the_real_clip(clip_frames):
    c = ASLClassifier()
    eng = TemporalEngine(c.temporal_specs())
    events, texts = [], []
    for f in clip_frames:
        dets = c.classify(f)
        texts += [d.text for d in dets if d.gesture == WORD]
        events += [e for e in eng.update(f, dets) if e.gesture == WORD]
    events += [e for e in eng.finish(clip_frames[-1].t + 0.04) if e.gesture == WORD]
    assert texts, "no word spelled on the clip"
    # the text only ever grows by one letter at a time within a word
    for a, b in zip(texts, texts[1:], strict=False):
        assert b == a or (b.startswith(a) and len(b) == len(a) + 1) or len(b) == 1
    assert 2 <= len(texts[-1]) <= 12 and set(texts[-1]) <= set(LETTERS)
    phases = [e.phase for e in events]
    assert phases[0] == "start" and phases[-1] == "end" and "update" in phases
    distinct = [t for i, t in enumerate(texts) if i == 0 or t != texts[i - 1]]
    assert [e.text for e in events if e.phase == "update"] == [t for t in distinct if len(t) > 1]
    words = [t for i, t in enumerate(distinct) if i + 1 == len(distinct) or len(distinct[i + 1]) == 1]
    assert [e.text for e in events if e.phase == "end"] == words  # each end carries its whole word
    assert words == ["KINDNE"]  # what the shipped model reads on the clip (measured)
    # the same input gives the same word (no hidden state across runs)
    c2 = ASLClassifier()
    again = [d.text for f in clip_frames for d in c2.classify(f) if d.gesture == WORD]
    assert again == texts
    print("spelled:", texts[-1])


def test_no_hands_no_letters(clf):
    assert clf.classify(Frame(index=0, t=0.0, width=10, height=10, source="")) == []


def test_fast_path_matches_the_model(clip_frames, clf):
    assert clf._fast is not None  # the shipped model is a standardized logistic regression
    model = clf.letters.model
    for f in clip_frames[::13]:
        h = f.hands[0]
        p = model.predict_proba(h.keypoints[None], h.keypoints3d[None], ["right"])[0]
        dets = ASLClassifier(spell=False, min_score=0.0)._classify_letters(f)
        if p.max() >= model.reject:
            assert dets[0].gesture == "asl_" + model.classes[int(p.argmax())]
            assert dets[0].score == pytest.approx(p.max(), abs=1e-9)
        else:
            assert dets == []
    assert [d.gesture for f in clip_frames[:50] for d in ASLClassifier(spell=False)._classify_letters(f)] == \
        [d.gesture for f in clip_frames[:50] for d in ASLClassifier(spell=False).letters.classify(f)]


def test_fast_path_reads_only_dist_and_vert(clf):
    # the shipped model is built on the dist2 + vert blocks: the plugin computes only those
    assert clf._fast is not None and clf._fast[-1] is True
    assert clf.letters.model.card.get("feature_blocks") == ["dist2", "vert"]


def test_old_feature_version_fails_in_one_line(tmp_path):
    import zipfile

    from gesturekit import ModelError
    from gesturekit.learn import load_model

    old = tmp_path / "old.gkm"
    with zipfile.ZipFile(ASL_MODEL) as src, zipfile.ZipFile(old, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            if name == "card.json":
                card = json.loads(data)
                card["feature_version"] = "hand-2"
                data = json.dumps(card).encode()
            dst.writestr(name, data)
    with pytest.raises(ModelError) as e:
        load_model(old)
    assert "feature version" in str(e.value) and "\n" not in str(e.value)
