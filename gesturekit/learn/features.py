"""Normalized hand features for learned classifiers: one row of floats per hand.

:func:`hand_features` turns ``N`` hands (2D image keypoints, optional 3D world keypoints,
handedness) into an ``(N, F)`` float64 matrix, vectorized over the hands. The features are

- invariant to the hand's position and size in the image (everything is in *palm units*, the mean
  wrist-to-knuckle distance) and to its side: left hands are mirrored onto right hands (the image
  ``x`` and the world ``x`` are negated) before anything else, so a left hand and its mirror-image
  right hand give the same row;
- invariant to the hand's rotation for the *shape* blocks (canonical palm-frame coordinates,
  joint angles, distances), while the *orientation* block deliberately records how the palm is
  turned in the image and toward the camera: several ASL letters differ only by that
  (G/Q, H/U, K/P, I/J-start, N/M vs. the same shapes pointing down).

Blocks, in order (see :func:`feature_names`):

==========  ====  ==========================================================================
block       size  what
==========  ====  ==========================================================================
``c2``      42    21 keypoints in the image-plane palm frame (origin palm centre, ``y`` wrist
                  toward the middle knuckle, palm units)
``c3``      63    21 keypoints in the 3D palm frame (:func:`~gesturekit.features.normalize.canonicalize`)
``orient``  14    image-plane direction of wrist->middle knuckle (cos, sin) and of
                  pinky->index knuckle (cos, sin); the palm axes in camera space (3 x 3, rows
                  x across, y along, z normal); the palm's image foreshortening (knuckle width
                  over palm length in the image)
``ang2``    15    bend angle (radians) at the three joints of each finger, in the image plane
``ang3``    15    the same in 3D
``abd``     8     angle between adjacent fingers' directions (thumb-index ... ring-pinky), 2D then 3D
``dist2``   28    distances in palm units, image plane: the 10 fingertip pairs, thumb tip to the
                  PIP and MCP of the four fingers (8), index and middle tip to the other fingers'
                  PIP joints (6), thumb tip to the palm centre and to the wrist (2), index tip
                  to the wrist and middle tip to the wrist (2)
``dist3``   28    the same in 3D
``vert``    8     how much each of these points up or down in the image (the vertical component,
                  image ``y`` down, of its 3D unit direction): the palm (wrist->middle knuckle),
                  index, middle, thumb and pinky (base->tip), index and middle (MCP->DIP), and
                  the palm normal. Unlike the rest, turning the hand about the image's vertical
                  axis (toward or away from the camera) leaves these unchanged
==========  ====  ==========================================================================

3D world keypoints are not always known (imported 2D-only datasets carry all-NaN
``keypoints3d``). For such rows the 3D blocks are filled from the 2D keypoints lifted onto a flat
plane (``z = 0``), so the row has the same layout and finite values. With ``use_3d=False`` the
3D shape columns (``c3``, the palm axes of ``orient``, ``ang3``, the 3D half of ``abd``,
``dist3``) are 0 for every row: a model meant to serve both kinds of data, or trained on depth
estimates that disagree with MediaPipe's world keypoints, is then trained on the 2D shape alone
(duplicating the 2D columns instead was measured to cost accuracy across signers).
The ``vert`` block is the exception: it uses the world keypoints wherever they are known, even
with ``use_3d=False``: a coarse direction (is the finger pointing up, sideways or down?) agrees
between depth estimators (MediaPipe's world keypoints, the relative depth of its image
landmarks) where fine 3D shape does not, and it is what tells a finger pointing at the camera
from one pointing up in 2D.

:func:`dist_vert_features` computes only the ``dist2`` and ``vert`` columns (the same values, ~4x
faster on one hand): the path of models that read nothing else (the shipped ASL model).

Keypoints in image-normalized coordinates (``sizes`` 0) must have a square aspect (x and y in the
same unit) for the geometry to mean anything: scale ``x`` by width/height before calling.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gesturekit._exceptions import InputError

__all__ = ["FEATURE_VERSION", "FEATURE_BLOCKS", "hand_features", "feature_names", "n_features", "block_columns",
           "dist_vert_features"]

#: Bumped whenever the features change (a model records the version it was trained with).
FEATURE_VERSION: str = "hand-3"

_EPS = 1e-9
_KNUCKLES = np.array([5, 9, 13, 17])
_CHAINS = np.array([[0, 1, 2, 3, 4], [0, 5, 6, 7, 8], [0, 9, 10, 11, 12], [0, 13, 14, 15, 16], [0, 17, 18, 19, 20]])
_TIPS = np.array([4, 8, 12, 16, 20])
_DIR_FROM = np.array([2, 5, 9, 13, 17])  # a finger's direction: from this joint to its tip
_PAIRS_I, _PAIRS_J = np.triu_indices(5, k=1)
_C1, _C2 = np.array([1, 2, 0]), np.array([2, 0, 1])
# distance pairs beyond the tip pairs (keypoint index pairs; 21 = the palm centre)
_EXTRA_PAIRS = np.array(
    [(4, 6), (4, 10), (4, 14), (4, 18), (4, 5), (4, 9), (4, 13), (4, 17),
     (8, 10), (8, 14), (8, 18), (12, 6), (12, 14), (12, 18),
     (4, 21), (4, 0), (8, 0), (12, 0)])
_DIST_A = np.concatenate([_TIPS[_PAIRS_I], _EXTRA_PAIRS[:, 0]])
_DIST_B = np.concatenate([_TIPS[_PAIRS_J], _EXTRA_PAIRS[:, 1]])

#: ``(name, size)`` of each block, in column order.
FEATURE_BLOCKS: tuple[tuple[str, int], ...] = (
    ("c2", 42), ("c3", 63), ("orient", 14), ("ang2", 15), ("ang3", 15), ("abd", 8),
    ("dist2", len(_DIST_A)), ("dist3", len(_DIST_A)), ("vert", 8))
# the directions of the vert block: (from, to) keypoints; the palm normal is added after them
_VERT_FROM = np.array([0, 5, 9, 2, 17, 5, 9])
_VERT_TO = np.array([9, 8, 12, 4, 20, 7, 11])


def _block_columns(names: tuple[str, ...]) -> np.ndarray:
    cols, i = [], 0
    for name, size in FEATURE_BLOCKS:
        if name in names:
            cols.append(np.arange(i, i + size))
        i += size
    return np.concatenate(cols)


# columns that only 3D keypoints fill (0 with use_3d=False): c3, the palm axes, ang3, 3D abd, dist3
_COLS_3D = np.concatenate([_block_columns(("c3", "ang3", "dist3")),
                           _block_columns(("orient",))[4:13], _block_columns(("abd",))[4:]])


def block_columns(names: Sequence[str]) -> np.ndarray:
    """Column indices of the named blocks (e.g. ``("dist2", "vert")``), in column order."""
    unknown = set(names) - {b for b, _ in FEATURE_BLOCKS}
    if unknown:
        raise InputError(f"hand features: unknown blocks {sorted(unknown)}; known: {[b for b, _ in FEATURE_BLOCKS]}")
    return _block_columns(tuple(names))


_DIST2_COLS = _block_columns(("dist2",))
_VERT_COLS = _block_columns(("vert",))


def dist_vert_features(keypoints: np.ndarray, keypoints3d: np.ndarray | None,
                       handedness: Sequence[str] | np.ndarray | str | None) -> np.ndarray:
    """Only the ``dist2`` and ``vert`` columns of :func:`hand_features` (``(N, 28 + 8)``, the same
    values): the cheap path for models that read nothing else (both blocks are mirror-invariant,
    except the palm normal's, which turns over on a mirrored hand)."""
    kp, k3, left = _check(keypoints, keypoints3d, handedness, None)
    n = len(kp)
    ext = np.empty((n, 22, 2))
    ext[:, :21] = kp
    ext[:, 21] = kp[:, _KNUCKLES].mean(axis=1)
    d = ext[:, _DIST_A] - ext[:, _DIST_B]
    unit = np.maximum(np.sqrt(((kp[:, _KNUCKLES] - kp[:, :1]) ** 2).sum(axis=2)).mean(axis=1), _EPS)
    dist = np.sqrt((d * d).sum(axis=2)) / unit[:, None]
    known = np.isfinite(k3).all(axis=(1, 2))
    world = np.empty((n, 21, 3))
    world[:, :, :2] = kp
    world[:, :, 2] = 0.0
    if known.any():
        world[known] = k3[known]
    dirs = np.empty((n, 8, 3))
    dirs[:, :7] = world[:, _VERT_TO] - world[:, _VERT_FROM]
    a, b = world[:, 5] - world[:, 17], world[:, 9] - world[:, 0]
    dirs[:, 7, 0] = a[:, 1] * b[:, 2] - a[:, 2] * b[:, 1]
    dirs[:, 7, 1] = a[:, 2] * b[:, 0] - a[:, 0] * b[:, 2]
    dirs[:, 7, 2] = a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]
    vert = dirs[:, :, 1] / np.maximum(np.sqrt((dirs * dirs).sum(axis=2)), _EPS)
    vert[left, 7] *= -1.0
    return np.concatenate([dist, vert], axis=1)


def n_features() -> int:
    """Number of columns :func:`hand_features` returns."""
    return sum(s for _, s in FEATURE_BLOCKS)


def feature_names() -> list[str]:
    """A name for each column (``block:detail``), for model cards and feature selection."""
    names: list[str] = []
    names += [f"c2:{k}{a}" for k in range(21) for a in "xy"]
    names += [f"c3:{k}{a}" for k in range(21) for a in "xyz"]
    names += ["orient:along_cos", "orient:along_sin", "orient:across_cos", "orient:across_sin"]
    names += [f"orient:R{r}{c}" for r in "xyz" for c in "xyz"] + ["orient:foreshortening"]
    for b in ("ang2", "ang3"):
        names += [f"{b}:f{f}j{j}" for f in range(5) for j in range(3)]
    names += [f"abd:{d}{f}" for d in ("2d", "3d") for f in range(4)]
    for b in ("dist2", "dist3"):
        names += [f"{b}:{a}-{c}" for a, c in zip(_DIST_A, _DIST_B, strict=True)]
    names += [f"vert:{a}-{c}" for a, c in zip(_VERT_FROM, _VERT_TO, strict=True)] + ["vert:normal"]
    return names


def _norm(v: np.ndarray) -> np.ndarray:
    return np.sqrt(np.einsum("...i,...i->...", v, v))


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(_norm(v), _EPS)[..., None]


def _angle(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    cos = np.einsum("...i,...i->...", a, b) / np.maximum(_norm(a) * _norm(b), _EPS)
    return np.arccos(np.clip(cos, -1.0, 1.0))


def _shape_blocks(p: np.ndarray, centre: np.ndarray, unit: np.ndarray) -> tuple[np.ndarray, ...]:
    """Joint angles, adjacent-finger angles and distances (palm units) of ``(M, 21, 3)`` points."""
    chain = p[:, _CHAINS]
    bones = chain[:, :, 1:] - chain[:, :, :-1]  # (M, 5, 4, 3)
    ang = _angle(bones[:, :, :-1], bones[:, :, 1:]).reshape(len(p), 15)
    dirs = p[:, _TIPS] - p[:, _DIR_FROM]
    abd = _angle(dirs[:, :-1], dirs[:, 1:])
    ext = np.concatenate([p, centre[:, None]], axis=1)
    dist = _norm(ext[:, _DIST_A] - ext[:, _DIST_B]) / unit[:, None]
    return ang, abd, dist


def _check(keypoints: np.ndarray, keypoints3d: np.ndarray | None, handedness: object,
           sizes: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    kp = np.asarray(keypoints, dtype=np.float64)
    if kp.ndim == 2:
        kp = kp[None]
    if kp.ndim != 3 or kp.shape[1:] != (21, 2):
        raise InputError(f"hand features: keypoints must have shape (N, 21, 2), got {np.shape(keypoints)}")
    n = len(kp)
    if not np.isfinite(kp).all():
        raise InputError("hand features: 2D keypoints must be finite")
    if keypoints3d is None:
        k3 = np.full((n, 21, 3), np.nan)
    else:
        k3 = np.asarray(keypoints3d, dtype=np.float64)
        if k3.ndim == 2:
            k3 = k3[None]
        if k3.shape != (n, 21, 3):
            raise InputError(f"hand features: keypoints3d must have shape ({n}, 21, 3), got {np.shape(keypoints3d)}")
    if handedness is None:
        left = np.zeros(n, dtype=bool)
    else:
        h = np.asarray([handedness] * n if isinstance(handedness, str) else handedness).astype(str)
        if h.shape != (n,):
            raise InputError(f"hand features: expected {n} handedness labels, got shape {h.shape}")
        left = h == "left"
        if not (left | (h == "right") | (h == "unknown")).all():
            raise InputError("hand features: handedness must be 'left', 'right' or 'unknown'")
    if sizes is not None and np.shape(sizes) != (n, 2):
        raise InputError(f"hand features: sizes must have shape ({n}, 2), got {np.shape(sizes)}")
    return kp, k3, left


def hand_features(keypoints: np.ndarray, keypoints3d: np.ndarray | None,
                  handedness: Sequence[str] | np.ndarray | str | None,
                  sizes: np.ndarray | None = None, *, use_3d: bool = True) -> np.ndarray:
    """Feature rows for ``N`` hands (see the module docstring for the columns).

    :param keypoints: ``(N, 21, 2)`` image keypoints (pixels, or normalized with a square aspect).
    :param keypoints3d: ``(N, 21, 3)`` world keypoints (metres, MediaPipe's camera-aligned axes),
        all-NaN rows (or ``None``) where unknown.
    :param handedness: anatomical ``left``/``right``/``unknown`` per hand (``unknown`` and
        ``None`` are taken as right hands).
    :param sizes: ``(N, 2)`` image width, height (0 when the keypoints are normalized); only
        checked for shape: the features do not depend on the image size.
    :param use_3d: use the world keypoints where they are known; ``False`` zeroes the 3D shape
        columns for every row (for models that must serve 2D-only data); ``vert`` uses the world
        keypoints either way.
    :returns: ``(N, F)`` float64, finite.
    :raises InputError: on arrays of the wrong shape, non-finite 2D keypoints or bad handedness.
    """
    kp, k3, left = _check(keypoints, keypoints3d, handedness, sizes)
    n = len(kp)
    sign = np.where(left, -1.0, 1.0)
    # mirror left hands onto right ones: negate image x and world x
    p2 = kp.copy()
    p2[:, :, 0] *= sign[:, None]
    flat = np.concatenate([p2, np.zeros((n, 21, 1))], axis=2)
    known = np.isfinite(k3).all(axis=(1, 2))
    world = np.where(known[:, None, None], np.nan_to_num(k3), flat)
    world[:, :, 0] *= np.where(known, sign, 1.0)[:, None]
    has3 = known if use_3d else np.zeros(n, dtype=bool)
    p3 = np.where(has3[:, None, None], world, flat)

    # both versions of each hand in one (2N, 21, 3) batch: the image plane (z = 0), then 3D
    pts = np.concatenate([flat, p3])
    centre = (pts[:, 5] + pts[:, 9] + pts[:, 13] + pts[:, 17]) * 0.25
    unit = np.maximum(_norm(pts[:, _KNUCKLES] - pts[:, :1]).sum(axis=1) * 0.25, _EPS)
    y = _unit(pts[:, 9] - pts[:, 0])
    across = pts[:, 5] - pts[:, 17]
    x = _unit(across - np.einsum("nd,nd->n", across, y)[:, None] * y)
    rot = np.empty((2 * n, 3, 3))
    rot[:, 0], rot[:, 1] = x, y
    rot[:, 2] = x[:, _C1] * y[:, _C2] - x[:, _C2] * y[:, _C1]  # x cross y
    # the image-plane frame keeps a fixed handedness: x is y turned 90 degrees clockwise (image
    # axes), so whether the palm or its back faces the camera shows in the coordinates
    rot[:n, 0] = np.stack([-y[:n, 1], y[:n, 0], np.zeros(n)], axis=1)
    can = np.einsum("nij,nkj->nki", rot, (pts - centre[:, None]) / unit[:, None, None])
    ang, abd, dist = _shape_blocks(pts, centre, unit)
    # how much the palm is foreshortened in the image: knuckle width over palm length (2D)
    fore = _norm(across[:n]) / np.maximum(_norm(pts[:n, 9] - pts[:n, 0]), _EPS)
    across2 = _unit(across[:n, :2])
    # vertical components of directions in 3D (world keypoints wherever known)
    dirs = np.concatenate([world[:, _VERT_TO] - world[:, _VERT_FROM],
                           np.cross(world[:, 5] - world[:, 17], world[:, 9] - world[:, 0])[:, None]], axis=1)
    vert = _unit(dirs)[:, :, 1]
    out = np.concatenate([can[:n, :, :2].reshape(n, 42), can[n:].reshape(n, 63), y[:n, :2], across2,
                          rot[n:].reshape(n, 9), fore[:, None], ang[:n], ang[n:], abd[:n], abd[n:],
                          dist[:n], dist[n:], vert], axis=1)
    if not use_3d:
        out[:, _COLS_3D] = 0.0
    return out
