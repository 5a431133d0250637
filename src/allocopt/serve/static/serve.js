// The what-if page: every change is sent as JSON to this server, which re-solves the live session and answers with
// the new view as HTML (rendered and escaped by the server). No build step, no libraries.
"use strict";

const state = {pending: 0, poll: null};

function show(text, isError) {
  const box = document.getElementById("message");
  box.textContent = text || "";
  box.className = isError ? "message error" : "message";
}

async function post(url, body) {
  state.pending += 1;
  startProgress();
  try {
    const response = await fetch(url, {method: "POST", headers: {"Content-Type": "application/json"},
                                       body: JSON.stringify(body || {})});
    let data = {};
    try { data = await response.json(); } catch (err) { data = {error: response.status + " " + response.statusText}; }
    if (!response.ok) { show(data.error || ("error " + response.status), true); return null; }
    return data;
  } catch (err) {
    show("the server cannot be reached: " + err, true);
    return null;
  } finally {
    state.pending -= 1;
    if (state.pending === 0) { stopProgress(); }
  }
}

function startProgress() {
  if (state.poll !== null) { return; }
  state.poll = window.setInterval(async () => {
    try {
      const response = await fetch("/api/progress");
      const p = await response.json();
      const line = document.getElementById("progress");
      if (!p.busy) { line.textContent = ""; return; }
      let text = p.what + ": " + p.seconds.toFixed(1) + " s";
      if (p.total) { text += ", " + p.done + " of " + p.total; } else if (p.done) { text += ", " + p.done + " done"; }
      if (p.gap !== null && p.gap !== undefined && isFinite(p.gap)) { text += ", gap " + (100 * p.gap).toFixed(2) + "%"; }
      if (p.nodes) { text += ", " + p.nodes + " nodes"; }
      line.textContent = text;
    } catch (err) { /* the next poll tries again */ }
  }, 250);
}

function stopProgress() {
  window.clearInterval(state.poll);
  state.poll = null;
  document.getElementById("progress").textContent = "";
}

function showLive(data, started) {
  if (data === null) { return; }
  document.getElementById("live").innerHTML = data.html;
  const ms = performance.now() - started;
  document.body.dataset.lastUpdateMs = ms.toFixed(1);
  document.body.dataset.version = data.version;
  show(data.message + " (" + Math.round(ms) + " ms on this page)", false);
}

async function edit(path, value) {
  const started = performance.now();
  show("re-solving with " + path + " = " + value + " ...", false);
  showLive(await post("/api/edit", {path: path, value: value}), started);
}

function fieldChanged(input) {
  if (input.value === input.defaultValue || input.dataset.sent === input.value) { return; }
  input.dataset.sent = input.value;
  edit(input.dataset.path, input.value);
}

// Another tab may change the plan: when idle, look every 2 s and fetch the new view if it did.
async function followOtherTabs() {
  if (state.pending > 0) { return; }
  try {
    const p = await (await fetch("/api/progress")).json();
    if (String(p.version) !== document.body.dataset.version && !p.busy && state.pending === 0) {
      const started = performance.now();
      const data = await (await fetch("/api/view")).json();
      if (state.pending === 0) { showLive(data, started); show("the plan was changed in another tab", false); }
    }
  } catch (err) { /* the server may be gone; the next look tries again */ }
}

document.addEventListener("DOMContentLoaded", () => {
  window.setInterval(followOtherTabs, 2000);
  document.body.dataset.version = document.getElementById("status").dataset.version;
  document.getElementById("edit-form").addEventListener("submit", (e) => {
    e.preventDefault();
    edit(document.getElementById("edit-path").value.trim(), document.getElementById("edit-value").value.trim());
  });
  const live = document.getElementById("live");
  live.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && e.target.classList.contains("field")) { e.preventDefault(); fieldChanged(e.target); }
  });
  live.addEventListener("change", (e) => {
    if (e.target.classList.contains("field")) { fieldChanged(e.target); }
  });
  document.getElementById("objective-choice").addEventListener("change", async (e) => {
    const started = performance.now();
    show("solving under " + e.target.value + " ...", false);
    showLive(await post("/api/objective", {objective: e.target.value}), started);
  });
  document.getElementById("reset").addEventListener("click", async () => {
    const started = performance.now();
    showLive(await post("/api/reset"), started);
  });
  document.getElementById("coalitions").addEventListener("click", async () => {
    show("solving every coalition ...", false);
    const data = await post("/api/coalitions");
    if (data !== null) { document.getElementById("coalition-tables").innerHTML = data.html; show(data.message, false); }
  });
  document.getElementById("stop").addEventListener("click", async () => {
    const response = await fetch("/api/stop", {method: "POST", headers: {"Content-Type": "application/json"}, body: "{}"});
    const data = await response.json();
    show(data.message || data.error, !response.ok);
  });
  const save = document.getElementById("save");
  if (save !== null) {
    save.addEventListener("click", async () => {
      const data = await post("/api/save");
      if (data !== null) { show(data.message, false); }
    });
  }
});
