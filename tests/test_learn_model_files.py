"""Model files (.gkm): a save/load round trip, and tampered files refused with one ModelError line."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from gesturekit import ModelError
from gesturekit.learn.augment import Augment
from gesturekit.learn.dataset import read_dataset
from gesturekit.learn.importers import import_keypoint_csv
from gesturekit.learn.linear import LinearPipeline
from gesturekit.learn.model import CARD, LINEAR, PIPELINE, load_model, train_model
from tests.shared_data import data_file


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ds") / "kaz"
    import_keypoint_csv([data_file("landmarks/kazuhito00/keypoint.csv")], out, progress=False)
    return out


def _fit_and_save(dataset: Path, folder: Path, estimator: str, every: int) -> Path:
    arr = read_dataset(dataset)
    arr = arr.subset(np.arange(len(arr)) % every == 0)
    m = train_model(arr, estimator=estimator, augmentation=Augment(copies=0), command="test")
    return m.save(folder / f"{estimator}.gkm")


@pytest.fixture(scope="module")
def model_file(dataset, tmp_path_factory) -> Path:
    """A linear model: stored as plain arrays."""
    return _fit_and_save(dataset, tmp_path_factory.mktemp("m"), "logreg", 4)


@pytest.fixture(scope="module")
def skops_file(dataset, tmp_path_factory) -> Path:
    """A model whose estimator is not linear: stored with skops."""
    return _fit_and_save(dataset, tmp_path_factory.mktemp("s"), "svc", 8)


def _member(path: Path) -> str:
    with zipfile.ZipFile(path) as z:
        return LINEAR if LINEAR in z.namelist() else PIPELINE


def _rewrite(src: Path, dst: Path, card=None, blob=None, member: str | None = None) -> Path:
    """``src`` with its card and/or estimator replaced (``member``: the estimator's name inside;
    default: the one ``src`` has when ``blob`` is None, else ``model.skops``)."""
    own = _member(src)
    with zipfile.ZipFile(src) as z:
        c, b = z.read(CARD), z.read(own)
    member = member or (own if blob is None else PIPELINE)
    with zipfile.ZipFile(dst, "w") as z:
        z.writestr(CARD, c if card is None else card)
        z.writestr(member, b if blob is None else blob)
    return dst


def _one_line_error(path: Path, *words: str) -> str:
    with pytest.raises(ModelError) as e:
        load_model(path)
    msg = str(e.value)
    assert "\n" not in msg, msg
    for w in words:
        assert w in msg, msg
    return msg


def test_round_trip_predicts_the_same(dataset, model_file):
    arr = read_dataset(dataset)
    arr = arr.subset(np.arange(len(arr)) % 7 == 1)
    m = load_model(model_file)
    m2 = load_model(m.save(model_file.with_name("again.gkm")))
    a, sa = m.predict_arrays(arr)
    b, sb = m2.predict_arrays(arr)
    assert list(a) == list(b)
    np.testing.assert_allclose(sa, sb)
    assert m.card["classes"] == list(m.classes)


def test_unexpected_type_in_skops_is_refused(model_file, tmp_path):
    import skops.io as sio
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    x = np.random.default_rng(0).normal(size=(20, 4))
    pipe = Pipeline([("scale", StandardScaler()), ("clf", KNeighborsClassifier(3))]).fit(x, ["a", "b"] * 10)
    bad = _rewrite(model_file, tmp_path / "type.gkm", blob=sio.dumps(pipe))
    _one_line_error(bad, "refusing to load", "sklearn.neighbors._classification.KNeighborsClassifier")


def test_a_non_pipeline_object_is_refused(model_file, tmp_path):
    import skops.io as sio

    bad = _rewrite(model_file, tmp_path / "dict.gkm", blob=sio.dumps({"a": [1, 2]}))
    _one_line_error(bad, "expected a scikit-learn Pipeline")


def test_linear_models_are_arrays_and_predict_as_scikit_learn_does(dataset, skops_file):
    arr = read_dataset(dataset)
    fit = train_model(arr.subset(np.arange(len(arr)) % 5 == 0), estimator="logreg",
                      augmentation=Augment(copies=0), command="test")
    path = fit.save(skops_file.with_name("linear.gkm"))
    assert _member(path) == LINEAR and _member(skops_file) == PIPELINE
    loaded = load_model(path)
    assert isinstance(loaded.pipeline, LinearPipeline)
    held = arr.subset(np.arange(len(arr)) % 5 == 2)
    x = loaded.features(held.keypoints, held.keypoints3d, held.handedness, held.sizes)
    np.testing.assert_allclose(loaded.pipeline.predict_proba(x), fit.pipeline.predict_proba(x), atol=1e-9)
    assert list(loaded.predict_arrays(held)[0]) == list(fit.predict_arrays(held)[0])
    assert loaded.classes == fit.classes


def test_loading_a_linear_model_imports_neither_skops_nor_scikit_learn(model_file):
    code = ("import sys; from gesturekit.learn import load_model; m = load_model(sys.argv[1]); "
            "print(type(m.pipeline).__name__, sorted(k for k in sys.modules if k.split('.')[0] in "
            "('sklearn', 'skops', 'scipy')))")
    r = subprocess.run([sys.executable, "-c", code, str(model_file)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["LinearPipeline", "[]"], r.stdout


def _npz(**arrays) -> bytes:
    import io

    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _linear_arrays(path: Path) -> dict[str, np.ndarray]:
    import io

    with zipfile.ZipFile(path) as z, np.load(io.BytesIO(z.read(LINEAR))) as a:
        return {k: a[k] for k in a.files}


@pytest.mark.parametrize("change, words", [
    (lambda a: {**a, "classes": np.array([{"x": 1}] * len(a["classes"]), dtype=object)}, ["Object arrays"]),
    (lambda a: {**a, "coef": a["coef"][:, :-1]}, ["coef has shape"]),
    (lambda a: {**a, "intercept": a["intercept"] * np.nan}, ["NaN"]),
    (lambda a: {**a, "extra": np.zeros(3)}, ["expected the arrays"]),
    (lambda a: {k: v for k, v in a.items() if k != "scale"}, ["expected the arrays"]),
], ids=["pickled-object-array", "wrong-shape", "nan", "extra-array", "missing-array"])
def test_tampered_linear_arrays_are_refused(model_file, tmp_path, change, words):
    bad = _rewrite(model_file, tmp_path / "bad.gkm", blob=_npz(**change(_linear_arrays(model_file))), member=LINEAR)
    _one_line_error(bad, "linear.npz is not a valid linear model", *words)


def test_a_file_with_both_estimators_is_refused(model_file, skops_file, tmp_path):
    both = tmp_path / "both.gkm"
    with zipfile.ZipFile(model_file) as a, zipfile.ZipFile(skops_file) as b, zipfile.ZipFile(both, "w") as z:
        z.writestr(CARD, a.read(CARD))
        z.writestr(LINEAR, a.read(LINEAR))
        z.writestr(PIPELINE, b.read(PIPELINE))
    _one_line_error(both, "not a gesturekit model file")


@pytest.mark.parametrize("evil", ["os.system", "builtins.eval"])
def test_schema_naming_a_dangerous_callable_is_refused(skops_file, tmp_path, evil):
    model_file = skops_file
    with zipfile.ZipFile(model_file) as z:
        blob = z.read(PIPELINE)
    inner = {}
    with zipfile.ZipFile(__import__("io").BytesIO(blob)) as z:
        for n in z.namelist():
            inner[n] = z.read(n)
    schema = json.loads(inner["schema.json"])
    schema["__module__"], schema["__class__"] = evil.split(".")
    inner["schema.json"] = json.dumps(schema).encode()
    import io

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for n, b in inner.items():
            z.writestr(n, b)
    bad = _rewrite(model_file, tmp_path / "evil.gkm", blob=buf.getvalue())
    _one_line_error(bad, "refusing to load", evil)


def test_wrong_feature_version_is_refused(model_file, tmp_path):
    with zipfile.ZipFile(model_file) as z:
        card = json.loads(z.read(CARD))
    card["feature_version"] = "0-old"
    bad = _rewrite(model_file, tmp_path / "fv.gkm", card=json.dumps(card))
    _one_line_error(bad, "feature version", "0-old")


def test_not_a_zip_and_corrupt_zip_are_refused(model_file, tmp_path):
    txt = tmp_path / "text.gkm"
    txt.write_text("hello, not a model\n")
    _one_line_error(txt, "not a gesturekit model file")
    cut = tmp_path / "cut.gkm"
    cut.write_bytes(model_file.read_bytes()[: model_file.stat().st_size // 2])
    _one_line_error(cut)
    nozip_member = tmp_path / "nomember.gkm"
    with zipfile.ZipFile(nozip_member, "w") as z:
        z.writestr(CARD, "{}")
    _one_line_error(nozip_member, "not a gesturekit model file")


def test_cli_eval_with_bad_model_exits_2_with_one_line(dataset, model_file, tmp_path):
    with zipfile.ZipFile(model_file) as z:
        card = json.loads(z.read(CARD))
    card["feature_version"] = "0-old"
    bads = [_rewrite(model_file, tmp_path / "fv.gkm", card=json.dumps(card)), tmp_path / "text.gkm"]
    bads[1].write_text("not a zip")
    for bad in bads:
        r = subprocess.run([sys.executable, "-m", "gesturekit", "eval", str(dataset), "--model", str(bad)],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 2, (r.returncode, r.stderr)
        lines = [x for x in r.stderr.splitlines() if x.strip()]
        assert len(lines) == 1, r.stderr
        assert str(bad.name) in lines[0]
