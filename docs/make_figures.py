"""Draw the figures in docs/img/ from real footage (run from the repository root).

    .venv/bin/python docs/make_figures.py [NAME ...]     # NAME: keypoints, browser, annotated, plot

``keypoints.png``: the 21 keypoints and their indices on the open hand of
``../shared/data/tracking/hands.jpg``, tracked with the full model.

``browser-example.png``: ``examples/browser/index.html`` in headless Chromium, fed by the real
WebSocket sink while the real pipeline (lite model, gesture library, temporal engine) runs over
``../shared/data/tracking/thumb_up_video.mp4``; taken while ``thumbs_up`` is held.

``annotated-frame.png``: one frame of ``gesturekit run --annotate`` on the demo's real footage
(``gesturekit/data/asl_hand.25fps.mp4``, full model): the first frame on which ``pointing_up``
has been active for 0.4 s, drawn by the ``annotate`` observer (its top 860 rows, at 70 %).

``plot-example.png``: ``gesturekit plot`` of a landmark recording of the same clip (full model).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np

from gesturekit import FINGERS, HandLandmark
from gesturekit.sources import read_image
from gesturekit.tracking import Tracker, TrackerOptions

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
COLOURS = {"thumb": (60, 60, 230), "index": (40, 170, 40), "middle": (200, 120, 20), "ring": (170, 40, 170),
           "pinky": (20, 150, 210)}


def keypoint_figure(out: Path) -> None:
    image = read_image(str(DATA / "tracking" / "hands.jpg"))
    with Tracker(TrackerOptions(model="full", mode="image")) as tracker:
        frame = tracker.process(image)
    hand = min(frame.hands, key=lambda h: h.keypoint("wrist")[0])  # the left one, fingers up
    img = image.copy()
    scale = 3.0  # draw at twice the size, then crop: crisper labels
    img = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    img = (0.6 * img + 0.4 * 255).astype(np.uint8)  # fade the photo so the drawing stands out
    kp = hand.keypoints * scale
    pt = [tuple(int(round(v)) for v in p) for p in kp]
    for name, chain in FINGERS.items():
        for a, b in zip((0, *chain), chain, strict=True):
            cv2.line(img, pt[a], pt[b], COLOURS[name], 4, cv2.LINE_AA)
    for a, b in [(5, 9), (9, 13), (13, 17), (0, 17)]:
        cv2.line(img, pt[a], pt[b], (90, 90, 90), 3, cv2.LINE_AA)
    mcp_mean = kp[[5, 9, 13, 17]].mean(axis=0)
    cv2.drawMarker(img, tuple(int(v) for v in mcp_mean), (0, 0, 0), cv2.MARKER_CROSS, 26, 3, cv2.LINE_AA)
    for i, p in enumerate(pt):
        cv2.circle(img, p, 9, (255, 255, 255), -1, cv2.LINE_AA)
        cv2.circle(img, p, 9, (0, 0, 0), 2, cv2.LINE_AA)
        label = str(i)
        (w, h), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.9, 2)
        org = (p[0] + 12, p[1] - 8)
        cv2.rectangle(img, (org[0] - 3, org[1] - h - 4), (org[0] + w + 3, org[1] + 5), (255, 255, 255), -1)
        cv2.putText(img, label, org, cv2.FONT_HERSHEY_SIMPLEX, 0.9, (0, 0, 0), 2, cv2.LINE_AA)
    x0, y0 = np.maximum(kp.min(axis=0) - 70, 0).astype(int)
    x1, y1 = np.minimum(kp.max(axis=0) + 90, [img.shape[1], img.shape[0]]).astype(int)
    crop = img[y0:y1, x0:x1]
    cv2.putText(crop, "+ origin of keypoints3d", (10, crop.shape[0] - 14), cv2.FONT_HERSHEY_SIMPLEX, 0.8,
                (0, 0, 0), 2, cv2.LINE_AA)
    crop = cv2.resize(crop, None, fx=0.4, fy=0.4, interpolation=cv2.INTER_AREA)
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), crop, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    names = ", ".join(f"{m.value} {m.name.lower()}" for m in HandLandmark)
    print(f"wrote {out} ({out.stat().st_size // 1024} KB); keypoints: {names}", file=sys.stderr)


def browser_figure(out: Path) -> None:
    import shutil

    from playwright.sync_api import sync_playwright

    from gesturekit.chain.builder import build_classifiers, build_engine
    from gesturekit.chain.pipeline import Pipeline
    from gesturekit.chain.plugin_manager import collect_factories, get_plugin_manager
    from gesturekit.sources import open_source

    pm = get_plugin_manager()
    sink = collect_factories(pm, "sinks")["websocket"]({"port": 0, "token": "figure", "frames": True})
    sink.open()
    args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=args)
        page = browser.new_page(viewport={"width": 700, "height": 560})
        page.goto(f"{(ROOT / 'examples' / 'browser' / 'index.html').as_uri()}"
                  f"?url=ws://127.0.0.1:{sink.port}&token=figure")
        page.wait_for_function("document.getElementById('state').textContent === 'connected'")
        classifiers = build_classifiers(pm)
        after_start = None
        with Pipeline(pm, TrackerOptions(model="lite"), classifiers=classifiers,
                      engine=build_engine(classifiers)) as pipe:
            for item in open_source(str(DATA / "tracking" / "thumb_up_video.mp4")):
                result = pipe.process(pipe.frame_for(item))
                sink.send_frame(result.frame)
                for ev in result.events:
                    sink.send(ev)
                    if ev.gesture == "thumbs_up" and ev.phase == "start":
                        after_start = 0
                if after_start is not None:
                    after_start += 1
                    if after_start == 75:  # the thumb is well up by then
                        break
        page.wait_for_timeout(500)
        out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(out))
        browser.close()
    sink.close()
    print(f"wrote {out} ({out.stat().st_size // 1024} KB)", file=sys.stderr)


def annotated_figure(out: Path) -> None:
    import subprocess
    import tempfile

    clip = ROOT / "gesturekit" / "data" / "asl_hand.25fps.mp4"
    with tempfile.TemporaryDirectory() as tmp:
        video = Path(tmp) / "annotated.mp4"
        proc = subprocess.run([sys.executable, "-m", "gesturekit", "run", "--source", str(clip), "--model", "full",
                               "--annotate", str(video)], capture_output=True, text=True, check=True)
        events = [json.loads(line) for line in proc.stdout.splitlines()]
        start = next(e["frame"] for e in events if e["gesture"] == "pointing_up" and e["phase"] == "start")
        cap = cv2.VideoCapture(str(video))
        cap.set(cv2.CAP_PROP_POS_FRAMES, start + 10)
        ok, img = cap.read()
        cap.release()
    if not ok:
        raise SystemExit("could not read the annotated video back")
    img = cv2.resize(img[:860], None, fx=0.7, fy=0.7, interpolation=cv2.INTER_AREA)  # the arm's lower part cut
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), img, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    print(f"wrote {out} ({out.stat().st_size // 1024} KB): frame {start + 10}", file=sys.stderr)


def plot_figure(out: Path) -> None:
    import subprocess
    import tempfile

    clip = ROOT / "gesturekit" / "data" / "asl_hand.25fps.mp4"
    with tempfile.TemporaryDirectory() as tmp:
        rec = Path(tmp) / "asl_hand.jsonl"
        subprocess.run([sys.executable, "-m", "gesturekit", "run", "--source", str(clip), "--model", "full",
                        "--record-landmarks", str(rec)], capture_output=True, check=True)
        subprocess.run([sys.executable, "-m", "gesturekit", "plot", str(rec), "--out", str(out), "--size", "1200x780",
                        "--title", "asl_hand.25fps.mp4 (full model)"], check=True)


FIGURES = {"keypoints": (keypoint_figure, "keypoints.png"), "browser": (browser_figure, "browser-example.png"),
           "annotated": (annotated_figure, "annotated-frame.png"), "plot": (plot_figure, "plot-example.png")}

if __name__ == "__main__":
    for name in sys.argv[1:] or list(FIGURES):
        if name not in FIGURES:
            raise SystemExit(f"unknown figure {name!r}; one of {', '.join(FIGURES)}")
        func, file = FIGURES[name]
        func(ROOT / "docs" / "img" / file)
