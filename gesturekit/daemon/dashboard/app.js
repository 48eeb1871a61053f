// The gesturekit dashboard: reads the daemon's Server-Sent Events stream (stream) and polls
// its status (../status). Plain browser JavaScript, no libraries, no network beyond the daemon.
"use strict";

const params = new URLSearchParams(location.search);
const token = params.get("token") || new URLSearchParams(location.hash.slice(1)).get("token") || "";
const BONES = [[0, 1], [1, 2], [2, 3], [3, 4], [0, 5], [5, 6], [6, 7], [7, 8], [5, 9], [9, 10], [10, 11],
               [11, 12], [9, 13], [13, 14], [14, 15], [15, 16], [13, 17], [0, 17], [17, 18], [18, 19], [19, 20]];
const TIPS = [4, 8, 12, 16, 20];
const MAX_ROWS = 2000;

const $ = (id) => document.getElementById(id);
const canvas = $("skeleton"), ctx = canvas.getContext("2d");
// what the page has shown so far (read by the tests, handy in the console)
const state = { events: [], seqs: new Set(), frames: 0, handsDrawn: 0, explains: 0, active: new Map(),
                gestures: [], lastExplain: null, stopped: false };
window.dashboard = state;

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") e.className = v; else if (k === "dataset") Object.assign(e.dataset, v); else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function setConn(s, text) { const c = $("conn"); c.dataset.state = s; c.textContent = text; }

// ---- gestures: idle / active --------------------------------------------------------------------
function chip(name) {
  let c = document.querySelector(`#gestures [data-gesture="${CSS.escape(name)}"]`);
  if (!c) {
    c = el("span", { class: "chip", dataset: { gesture: name, state: "idle" } }, name);
    $("gestures").append(c);
  }
  return c;
}

function setGestures(names) {
  state.gestures = names;
  for (const n of names) chip(n);
  const focus = $("focus");
  for (const n of names) if (![...focus.options].some((o) => o.value === n)) focus.append(el("option", { value: n }, n));
}

function trackActive(ev) {
  const key = ev.gesture, c = chip(key);
  const ids = (ev.hands || []).map((h) => h.id).join("+");
  const set = state.active.get(key) || new Set();
  if (ev.phase === "start") set.add(ids);
  else if (ev.phase === "end") set.delete(ids);
  state.active.set(key, set);
  c.dataset.state = set.size ? "active" : "idle";
  c.title = set.size ? `active on hand ${[...set].join(", ")}` : "idle";
  if (ev.phase === "pulse") { c.classList.add("pulse"); setTimeout(() => c.classList.remove("pulse"), 600); }
}

// ---- the event log ------------------------------------------------------------------------------
function fmt(x, d = 2) { return typeof x === "number" ? x.toFixed(d) : ""; }

function addEvent(ev) {
  if (state.seqs.has(ev.seq)) return;  // a reconnect replays the history
  state.seqs.add(ev.seq);
  state.events.push(ev);
  trackActive(ev);
  const hands = (ev.hands || []).map((h) => `${h.handedness} #${h.id}`).join(" + ");
  const values = Object.entries(ev.values || {}).map(([k, v]) => `${k} ${fmt(v)}`).join(", ");
  const row = el("tr", { dataset: { seq: ev.seq, gesture: ev.gesture, phase: ev.phase } },
    el("td", {}, ev.seq), el("td", {}, fmt(ev.t)), el("td", { class: `phase-${ev.phase}` }, ev.phase),
    el("td", {}, ev.gesture), el("td", {}, hands), el("td", {}, fmt(ev.score)), el("td", {}, values));
  const body = $("log").tBodies[0];
  body.prepend(row);
  while (body.rows.length > MAX_ROWS) body.deleteRow(-1);
  $("count").textContent = String(state.events.length);
}

// ---- hands on the canvas ------------------------------------------------------------------------
function drawFrame(f) {
  state.frames += 1;
  if (f.width && f.height && canvas.height !== Math.round(canvas.width * f.height / f.width)) {
    canvas.height = Math.round(canvas.width * f.height / f.width);
  }
  const sx = canvas.width / (f.width || 1), sy = canvas.height / (f.height || 1);
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  for (const h of f.hands) {
    const color = h.handedness === "left" ? "#4cc3ff" : "#ffc34c";
    const p = h.keypoints.map(([x, y]) => [x * sx, y * sy]);
    ctx.lineWidth = 3; ctx.strokeStyle = color; ctx.lineCap = "round";
    ctx.beginPath();
    for (const [a, b] of BONES) { ctx.moveTo(...p[a]); ctx.lineTo(...p[b]); }
    ctx.stroke();
    for (let i = 0; i < p.length; i++) {
      ctx.fillStyle = TIPS.includes(i) ? "#ffffff" : color;
      ctx.beginPath(); ctx.arc(p[i][0], p[i][1], TIPS.includes(i) ? 5 : 3.5, 0, 2 * Math.PI); ctx.fill();
    }
    ctx.fillStyle = color; ctx.font = "bold 14px system-ui, sans-serif";
    ctx.fillText(`#${h.id} ${h.handedness}`, p[0][0] + 8, p[0][1] + 18);
    state.handsDrawn += 1;
  }
  $("nohands").hidden = f.hands.length > 0;
  $("frameinfo").textContent = `frame ${f.index} · t ${fmt(f.t)} s`;
  $("detections").textContent = f.detections.length
    ? "detected: " + f.detections.map((d) => `${d.gesture} (#${d.hands.join("+")})`).join(", ") : "";
}

// ---- explain: why a gesture holds or not ----------------------------------------------------------
function showExplain(x) {
  state.explains += 1;
  state.lastExplain = x;
  const sel = $("hand"), keep = sel.value;
  const labels = x.hands.map((h) => [String(h.hand), `hand #${h.hand} ${h.handedness}`]);
  if (labels.map((l) => l[0]).join() !== [...sel.options].map((o) => o.value).join()) {
    sel.replaceChildren(...labels.map(([v, t]) => el("option", { value: v }, t)));
    if (labels.some((l) => l[0] === keep)) sel.value = keep;
  }
  renderExplain();
}

function renderExplain() {
  const x = state.lastExplain, box = $("explain");
  if (!x || !x.hands.length) { box.replaceChildren(el("p", { class: "dim" }, "no hand in view")); return; }
  const h = x.hands.find((k) => String(k.hand) === $("hand").value) || x.hands[0];
  const focus = $("focus").value;
  const fingers = el("table", { class: "grid", id: "fingers" },
    el("thead", {}, el("tr", {}, ...["finger", "state", "curl", "points", "off"].map((t) => el("th", {}, t)))),
    el("tbody", {}, ...Object.entries(h.fingers).map(([name, f]) => el("tr", { dataset: { finger: name } },
      el("td", {}, name), el("td", { class: `finger-state state-${f.state}` }, f.state),
      el("td", {}, `${fmt(f.curl, 0)}°`), el("td", {}, f.direction), el("td", {}, `${fmt(f.direction_off, 0)}°`)))));
  const dist = el("table", { class: "grid", id: "distances" },
    el("tbody", {}, ...Object.entries(h.distances).map(([k, v]) => el("tr", {}, el("td", {}, k), el("td", {}, fmt(v, 3)))),
      el("tr", {}, el("td", {}, "thumb reach"), el("td", {}, fmt(h.thumb_reach, 3)))));
  const groups = new Map();
  for (const c of h.conditions) {
    if (focus && c.gesture !== focus) continue;
    const key = c.gesture + (c.pose ? ` (pose ${c.pose + 1})` : "");
    if (!groups.has(key)) groups.set(key, { gesture: c.gesture, conds: [] });
    groups.get(key).conds.push(c);
  }
  // the gestures that hold first, then those closest to holding (most conditions met)
  const score = ([, g]) => (h.gestures.includes(g.gesture) ? 2 : 0) + g.conds.filter((c) => c.holds).length / g.conds.length;
  const sorted = [...groups.entries()].sort((a, b) => score(b) - score(a));
  const conds = el("div", { id: "conditions" }, ...sorted.map(([label, g]) => {
    const holds = h.gestures.includes(g.gesture);
    const ok = g.conds.filter((c) => c.holds).length;
    return el("div", { class: "gesture-block", dataset: { gesture: g.gesture } },
      el("b", { class: holds ? "holds" : "" }, `${label} ${holds ? "HOLDS" : `${ok}/${g.conds.length}`}`),
      ...g.conds.map((c) => el("div", { class: "cond" }, el("span", { class: c.holds ? "yes" : "no" }, c.holds ? "✔ " : "✘ "),
        `${c.condition}: `, el("b", {}, c.value))));
  }));
  box.replaceChildren(
    el("p", {}, `hand #${h.hand} ${h.handedness} · frame ${x.index} · gestures: `,
       el("b", {}, h.gestures.join(", ") || "(none)")),
    fingers,
    el("p", {}, `palm faces ${h.palm_facing} (${fmt(h.palm_off, 0)}° off) · velocity (${fmt(h.velocity[0])}, ${fmt(h.velocity[1])}) palm/s`),
    dist, el("h2", {}, "Conditions vs thresholds"), conds);
}
$("hand").addEventListener("change", renderExplain);
$("focus").addEventListener("change", renderExplain);

// ---- /status: source, counters, sinks -------------------------------------------------------------
async function pollStatus() {
  if (state.stopped) return;
  try {
    const r = await fetch("../status", { headers: token ? { Authorization: `Bearer ${token}` } : {}, cache: "no-store" });
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    const s = await r.json();
    state.status = s;
    $("summary").textContent = `source ${s.source.name || "?"} (${s.source.state}) · ${s.frames} frames · ` +
      `${fmt(s.fps, 1)} fps · ${s.events} events · up ${fmt(s.uptime_s, 0)} s`;
    $("sinks").tBodies[0].replaceChildren(...Object.entries(s.sinks || {}).map(([name, k]) =>
      el("tr", { dataset: { sink: name } }, el("td", {}, name),
         el("td", {}, k.state || (k.connected === false ? "down" : "running")),
         el("td", { class: "delivered" }, k.delivered), el("td", {}, k.dropped), el("td", {}, k.errors),
         el("td", {}, k.queued))));
  } catch (e) {
    if (!state.stopped) $("summary").textContent = `status: ${e.message}`;
  }
}
pollStatus();
setInterval(pollStatus, 1000);

// ---- the stream ---------------------------------------------------------------------------------
const stream = new EventSource("stream" + (token ? `?token=${encodeURIComponent(token)}` : ""));
stream.addEventListener("hello", (m) => {
  const d = JSON.parse(m.data);
  setGestures(d.gestures);
  for (const ev of d.history) addEvent(ev);
  setConn("live", "live");
});
stream.addEventListener("gesture", (m) => addEvent(JSON.parse(m.data)));
stream.addEventListener("frame", (m) => drawFrame(JSON.parse(m.data)));
stream.addEventListener("explain", (m) => showExplain(JSON.parse(m.data)));
stream.addEventListener("bye", () => {
  state.stopped = true;
  stream.close();
  setConn("stopped", "daemon stopped");
});
stream.onerror = () => { if (!state.stopped) setConn("error", "reconnecting…"); };
