// aar dashboard: a small vanilla-JS client of the JSON API (no build step, no network beyond this server).
"use strict";
const $ = (s) => document.querySelector(s);
const params = new URLSearchParams(location.search);
if (params.get("token")) localStorage.setItem("aar_token", params.get("token"));
const S = {token: localStorage.getItem("aar_token") || "", task: params.get("task") || "", run: null, findings: [],
  submissions: [], agents: [], board: [], baselines: [], activity: {agents: {}, experiments: [], recent: {}, placements: {}, nodes: {}}, overseer: null,
  lastFinding: 0, open: null};
$("#token").value = S.token;

function esc(s) { return String(s ?? "").replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c])); }
function num(x, d = 3) { return (x === null || x === undefined || Number.isNaN(Number(x))) ? "–" : Number(x).toFixed(d); }
function agentName(r) { return r.agent || r.agent_name || r.name || String(r.agent_id ?? "?"); }
async function api(path) {
  const r = await fetch(path, {headers: S.token ? {Authorization: "Bearer " + S.token} : {}});
  if (!r.ok) throw new Error(path + " " + r.status);
  return r.json();
}
function asList(x, key) { return Array.isArray(x) ? x : (x && Array.isArray(x[key]) ? x[key] : []); }

// -- times: the server speaks ISO UTC; people read local clock times and "3 min ago" --------------------
function parseTime(t) {
  if (t === null || t === undefined || t === "") return NaN;
  if (typeof t === "number") return t * 1000;
  const s = String(t);
  return Date.parse(/[zZ]$|[+-]\d\d:?\d\d$/.test(s) ? s : s + "Z");
}
function clock(ms) {
  const d = new Date(ms), now = new Date();
  const hms = d.toLocaleTimeString([], {hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false});
  return d.toDateString() === now.toDateString() ? hms : d.toLocaleDateString([], {month: "short", day: "numeric"}) + " " + hms;
}
function ago(ms) {
  const s = Math.max(0, (Date.now() - ms) / 1000);
  if (s < 10) return "just now";
  if (s < 60) return `${Math.round(s)} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${(s / 3600).toFixed(1)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}
function when(t) {
  const ms = parseTime(t);
  return Number.isNaN(ms) ? "–" : `<time datetime="${esc(new Date(ms).toISOString())}">${esc(clock(ms))}</time> <span class="ago">${esc(ago(ms))}</span>`;
}
function dur(sec) { sec = Math.round(sec || 0); return sec < 60 ? `${sec} s` : sec < 3600 ? `${Math.floor(sec / 60)}:${String(sec % 60).padStart(2, "0")}` : `${(sec / 3600).toFixed(1)} h`; }

// -- the run and its tasks --------------------------------------------------------------------------------
async function loadRun() {
  try { S.run = await api("/api/run"); } catch (e) { S.run = null; }
  const tasks = S.run ? S.run.tasks : asList(await api("/api/tasks"), "tasks").filter((t) => t.prepared !== false).map((t) => (typeof t === "string" ? t : t.task || t.name)); // admin: unserved too
  if (!S.task || !tasks.includes(S.task)) S.task = (S.run && S.run.task && tasks.includes(S.run.task)) ? S.run.task : (tasks[0] || "");
  $("#task").innerHTML = tasks.map((t) => `<option value="${esc(t)}" ${t === S.task ? "selected" : ""}>${esc(t)}${S.run && t === S.run.task ? " (run)" : ""}</option>`).join("");
  if (S.run) {
    const c = S.run.config || {}, n = (S.run.agents || []).reduce((a, g) => a + g.count, 0);
    const bits = [];
    if (S.run.task) bits.push(`run task <b>${esc(S.run.task)}</b>`);
    if (n) bits.push(`${n} agent${n > 1 ? "s" : ""} (${esc((S.run.agents || []).map((g) => g.kind).join(", "))})`);
    if (c.size) bits.push(`size ${esc(c.size)}`);
    if (c.wall_time) bits.push(`wall ${esc(Math.round(c.wall_time / 60))} min`);
    bits.push(`budget ${esc(S.run.budget)}/agent/task`);
    $("#run-info").innerHTML = bits.join(" · ");
  }
}

// -- verified leaderboard ---------------------------------------------------------------------------------
function flagsCell(r) {
  return `<span class="flag">${esc((r.flags || []).join(", "))}</span>${(r.flags || []).length && (r.labels || []).length ? "; " : ""}` +
    `<span class="label">${esc((r.labels || []).join(", "))}</span>`;
}
function genCell(g) { const e = Object.entries(g || {}); return e.length ? e.map(([t, p]) => `${esc(t)} ${num(p, 2)}`).join(", ") : "–"; }
async function loadLeaderboard() {
  if (!S.task) return;
  const q = encodeURIComponent(S.task);
  S.board = asList(await api("/api/verified_leaderboard?task=" + q), "rows");
  try { S.baselines = asList(await api("/api/verified_baselines?task=" + q), "rows"); } catch (e) { S.baselines = []; }
  $("#leaderboard tbody").innerHTML = S.board.map((r) => {
    const base = r.kind === "baseline";
    const key = base ? `b:${r.baseline}` : `f:${r.finding_id}`;
    const merged = (r.finding_ids || []).length > 1 ? ` <span class="merged" title="identical snapshots merged">+${r.finding_ids.length - 1} merged</span>` : "";
    return `<tr class="open ${r.rank ? "" : "unranked"} ${base ? "baseline" : ""} ${S.open === key ? "sel" : ""}" data-open="${esc(key)}">
      <td>${r.rank ?? "–"}</td><td>${base ? "<i>baseline</i>" : esc(agentName(r))}</td>
      <td>${esc(r.title || r.baseline || "")}${merged}</td><td><span class="st st-${esc(r.status)}">${esc(r.status)}</span></td>
      <td>${num(r.public_pgr)}</td><td>${num(r.private_pgr)}</td>
      <td>${num(r.verified_pgr)}${r.verified_pgr_se != null ? " ± " + num(r.verified_pgr_se) : ""}</td>
      <td>${num(r.ablation_pgr)}</td><td>${genCell(r.generalization)}</td><td>${flagsCell(r)}</td></tr>`;
  }).join("") || `<tr><td colspan="10">No claims on ${esc(S.task)} yet.</td></tr>`;
  renderPlot();
}

// -- a row opened: finding, method, diff, verification ----------------------------------------------------
function diffHtml(text) {
  return `<pre class="diff">${text.split("\n").map((l) => {
    const cls = l.startsWith("+++") || l.startsWith("---") ? "dh" : l.startsWith("@@") ? "dr" : l.startsWith("+") ? "da" : l.startsWith("-") ? "dd" : "";
    return `<span class="${cls}">${esc(l)}</span>`;
  }).join("\n")}</pre>`;
}
function val(v) { return v === null || v === undefined ? "–" : typeof v === "number" ? String(v) : esc(JSON.stringify(v)); }
function comparisonHtml(c) {
  const changes = (c.changes || []).length
    ? `<table class="kv"><tr><th>field</th><th>${esc(c.against)}</th><th>this</th></tr>${c.changes.map((x) =>
      `<tr><td>${esc(x.field)}</td><td>${val(x.old)}</td><td><b>${val(x.new)}</b></td></tr>`).join("")}</table>` : "";
  return `<h4>against ${esc(c.against)}</h4>${changes}${c.diff ? diffHtml(c.diff) : "<p>identical method.</p>"}`;
}
function verificationHtml(v) {
  if (!v) return "<h3>Verification</h3><p>pending: the overseer has not closed it yet.</p>";
  const why = (v.details && v.details.why) || {};
  let h = `<h3>Verification <span class="st st-${esc(v.status)}">${esc(v.status)}</span></h3><table class="kv">`;
  const rows = [["verified PGR (held-out)", num(v.verified_pgr) + (v.verified_pgr_se != null ? " ± " + num(v.verified_pgr_se) : "")],
    ["held-out accuracy", num(v.verified_accuracy)], ["reproduce agreement", num(v.reproduce_agreement)],
    ["shuffled-weak PGR", num(v.ablation_pgr)], ["knowledge-removed strong PGR", num(v.blank_strong_pgr)],
    ["generalization", genCell(v.generalization)], ["closed", when(v.created_at)]];
  if (v.note) rows.push(["note", esc(v.note)]);
  h += rows.map(([k, x]) => `<tr><th>${esc(k)}</th><td>${x}</td></tr>`).join("") + "</table>";
  for (const f of (v.flags || []).concat(v.labels || [])) {
    h += `<p class="${(v.flags || []).includes(f) ? "flag" : "label"}">${esc(f)}${why[f] ? ": " + esc(why[f]) : ""}</p>`;
  }
  if ((v.runs || []).length) {
    h += `<h4>re-check runs</h4><table class="runs"><tr><th>kind</th><th>task</th><th>draw</th><th>seed</th><th>accuracy</th><th>PGR</th><th>agreement</th><th>time</th><th>error</th></tr>` +
      v.runs.map((r) => `<tr><td>${esc(r.kind)}</td><td>${esc(r.task)}</td><td>${esc(r.draw)}</td><td>${esc(r.seed)}</td><td>${num(r.accuracy)}</td>
      <td>${num(r.pgr)}</td><td>${num(r.agreement)}</td><td>${r.seconds != null ? dur(r.seconds) : "–"}</td><td class="flag">${esc((r.error || "").slice(0, 200))}</td></tr>`).join("") + "</table>";
  }
  return h;
}
function methodHtml(m) {
  if (!m) return "<p>No snapshot to show.</p>";
  let h = `<h3>Method</h3><p class="method">${esc(m.description)}</p>`;
  const names = Object.keys(m.files || {});
  h += `<details><summary>files (${names.length})</summary>${names.map((n) => `<h4>${esc(n)}</h4><pre>${esc(m.files[n])}</pre>`).join("")}</details>`;
  return h;
}
async function openRow(key) {
  S.open = key;
  document.querySelectorAll("#leaderboard tr.sel").forEach((tr) => tr.classList.remove("sel"));
  const tr = document.querySelector(`#leaderboard tr[data-open="${CSS.escape(key)}"]`);
  if (tr) tr.classList.add("sel");
  $("#sec-detail").hidden = false;
  $("#detail").innerHTML = "<p>loading…</p>";
  try {
    let h;
    if (key.startsWith("b:")) {
      const d = await api(`/dashboard/baselines/${encodeURIComponent(S.task)}/${encodeURIComponent(key.slice(2))}.json`);
      $("#detail-title").textContent = `Baseline ${d.baseline} on ${d.task}`;
      h = methodHtml(d.method) + verificationHtml(d.verification);
    } else {
      const d = await api(`/dashboard/findings/${encodeURIComponent(key.slice(2))}.json`);
      const f = d.finding;
      $("#detail-title").textContent = `#${f.id} ${f.title}`;
      h = `<p class="meta">${esc(agentName(f))} · ${esc(f.task || "")} · ${when(f.created_at)}${d.parent ? ` · built on #${d.parent.id} (${esc(agentName(d.parent))}: ${esc(d.parent.title)})` : ""}</p>`;
      if (d.claim && d.claim.finding_ids.length > 1) {
        h += `<p class="merged">Same snapshot posted as ${d.claim.finding_ids.map((i) => "#" + i).join(", ")}; credited to #${d.claim.finding_id} (${esc(d.claim.agent)}).</p>`;
      }
      h += methodHtml(d.method);
      if (d.comparisons.length) h += `<h3>Recipe / code diff</h3>` + d.comparisons.map(comparisonHtml).join("");
      h += verificationHtml(d.verification);
      h += `<h3>The poster's words</h3><div class="body">${esc(f.body || "")}</div>`;
      if (f.metrics) h += `<p class="meta">metrics: ${Object.entries(f.metrics).map(([k, x]) => `${esc(k)} ${esc(x)}`).join(", ")}</p>`;
      if (d.replies.length) h += `<h3>Replies</h3>` + d.replies.map(findingHtml).join("");
    }
    $("#detail").innerHTML = h;
  } catch (e) { $("#detail").innerHTML = `<p class="flag">${esc(e.message)}</p>`; }
}
$("#leaderboard").addEventListener("click", (ev) => { const tr = ev.target.closest("tr[data-open]"); if (tr) openRow(tr.dataset.open); });
$("#detail-close").addEventListener("click", () => { $("#sec-detail").hidden = true; S.open = null; document.querySelectorAll("#leaderboard tr.sel").forEach((tr) => tr.classList.remove("sel")); });

// -- forum ------------------------------------------------------------------------------------------------
function findingHtml(f) {
  return `<div class="finding ${esc(f.type)}" data-id="${f.id}" data-type="${esc(f.type)}" data-agent="${esc(agentName(f))}">
    <div class="meta">#${f.id} · ${esc(f.type)} · ${esc(agentName(f))} · ${esc(f.task || "")} · ${when(f.created_at)}
    ${f.parent_id ? " · reply to #" + f.parent_id : ""}</div><b>${esc(f.title)}</b>
    <div class="body">${esc((f.body || "").slice(0, 600))}</div></div>`;
}
function matches(f) {
  const t = $("#f-type").value, a = $("#f-agent").value, q = $("#f-q").value.trim().toLowerCase();
  return (!t || f.type === t) && (!a || agentName(f) === a) &&
    (!q || (f.title + " " + (f.body || "")).toLowerCase().includes(q));
}
function renderForum() {
  const shown = S.findings.filter(matches);
  const ids = new Set(shown.map((f) => f.id));
  const kids = {};
  for (const f of shown) if (f.parent_id && ids.has(f.parent_id)) (kids[f.parent_id] ||= []).push(f);
  const thread = (f) => findingHtml(f) + `<div class="reply">${(kids[f.id] || []).map(thread).join("")}</div>`;
  const roots = shown.filter((f) => !(f.parent_id && ids.has(f.parent_id))).reverse();
  $("#forum").innerHTML = roots.map(thread).join("") || "<p>No findings.</p>";
  $("#timeline").innerHTML = S.findings.slice().reverse().map((f) =>
    `<div class="tl">${when(f.created_at)} ${esc(agentName(f))} [${esc(f.type)}] ${esc(f.title)}</div>`).join("");
  const agents = [...new Set(S.findings.map(agentName).concat(S.agents.map(agentName)))].sort();
  const cur = $("#f-agent").value;
  $("#f-agent").innerHTML = `<option value="">all agents</option>` +
    agents.map((a) => `<option ${a === cur ? "selected" : ""}>${esc(a)}</option>`).join("");
}
async function loadFindings() {
  let all = [], since = 0;
  for (;;) {  // ascending ids, 1000 a page
    const page = asList(await api("/api/findings?limit=1000&since=" + since), "findings");
    all = all.concat(page);
    if (page.length < 1000) break;
    since = page[page.length - 1].id;
  }
  S.findings = all;
  S.lastFinding = S.findings.reduce((m, f) => Math.max(m, f.id), 0);
  renderForum();
}
function addFinding(f) {
  if (S.findings.some((g) => g.id === f.id)) return;
  S.findings.push(f);
  S.lastFinding = Math.max(S.lastFinding, f.id);
  renderForum();
}

// -- agents and the overseer ------------------------------------------------------------------------------
async function loadAgents() {
  S.agents = asList(await api("/api/agents"), "agents");
  try {
    let all = [], since = 0;
    for (;;) {
      const page = asList(await api("/api/submissions?limit=10000&since=" + since), "submissions");
      all = all.concat(page);
      if (page.length < 10000) break;
      since = page[page.length - 1].submission_id;
    }
    S.submissions = all;
  } catch (e) { S.submissions = []; }
  try { S.activity = await api("/dashboard/agents.json"); } catch (e) { S.activity = {agents: {}, experiments: [], recent: {}, placements: {}, nodes: {}}; }
  renderAgents();
  renderPlot();
}
function renderAgents() {
  // budgets are per agent and task for the whole run: show what is left on the selected task
  const evals = {}, onTask = {};
  for (const s of S.submissions) {
    const a = agentName(s); evals[a] = (evals[a] || 0) + 1;
    if (s.task === S.task) onTask[a] = (onTask[a] || 0) + 1;
  }
  const act = S.activity.agents || {}, budget = S.activity.budget;
  const exps = {};
  for (const e of S.activity.experiments || []) (exps[e.owner] ||= []).push(e);
  const expHtml = (list) => (list || []).map((e) =>
    `<span class="exp exp-${esc(e.state)}">${esc(e.state)} ${esc(e.label)}${e.node ? " on " + esc(e.node) : ""} · ${esc(dur(e.seconds))}</span>`).join(" ");
  const doneHtml = (list) => (list || []).slice().reverse().map((e) =>
    `<span class="exp exp-done" title="${esc(e.t || "")}">done ${esc(e.label)} on ${esc(e.node || "?")} · ${esc(dur(e.seconds))} · ${num(e.cpu_seconds, 1)} CPU-s</span>`).join(" ");
  const placed = S.activity.placements || {}, recent = S.activity.recent || {};
  const nodeHtml = (p) => !p ? "–" : `<span class="node">${esc(p.node)}</span>` + (p.restarts
    ? ` <span class="meta" title="one node per start">${esc(p.restarts)} restart${p.restarts > 1 ? "s" : ""}; ran on ${esc(p.nodes.join(" → "))}</span>` : "");
  $("#agents tbody").innerHTML = S.agents.filter((a) => a.role === "agent" && !a.builtin).map((a) => {
    const n = agentName(a), r = act[n];
    return `<tr data-agent="${esc(n)}"><td title="${esc(a.direction || "")}">${esc(n)}</td><td class="node">${nodeHtml(placed[n])}</td>
      <td class="exps">${[expHtml(exps[n]), doneHtml(recent[n])].filter(Boolean).join(" ") || "–"}</td>
      <td class="action">${r ? `<span class="${r.ok === false ? "flag" : ""}">${esc(r.last_action)}</span>` : "–"}</td>
      <td class="when">${r && r.t ? when(r.t) : "–"}</td><td>${onTask[n] || 0} on ${esc(S.task)}${evals[n] > (onTask[n] || 0) ? ` (${evals[n]} in all)` : ""}</td>
      <td>${budget ? esc(Math.max(0, budget - (onTask[n] || 0)) + "/" + budget + " on " + S.task) : "–"}</td></tr>`;
  }).join("") || `<tr><td colspan="7">No agents yet.</td></tr>`;
  renderNodes();
}
function renderNodes() {  // the report's "Compute per node" figures (aar.cluster.costs.by_node)
  const nodes = Object.entries(S.activity.nodes || {});
  $("#nodes tbody").innerHTML = nodes.map(([name, n]) => `<tr data-node="${esc(name)}"><td>${esc(name)}</td>
    <td>${esc((n.agents || []).join(", ") || "–")}</td><td class="runs">${esc(n.runs)}</td><td>${esc(n.agent_runs)}</td>
    <td>${esc(n.overseer_runs)}</td><td>${num(n.seconds, 1)}</td><td class="cpu">${num(n.cpu_seconds, 1)}</td><td class="gpu">${num(n.gpu_seconds, 1)}</td></tr>`).join("")
    || `<tr><td colspan="8">No experiment has finished yet.</td></tr>`;
}
async function loadOverseer() {
  try { S.overseer = await api("/dashboard/overseer.json?task=" + encodeURIComponent(S.task)); } catch (e) { S.overseer = null; }
  renderOverseer();
}
function renderOverseer() {
  const o = S.overseer;
  if (!o) { $("#overseer").innerHTML = "<p>–</p>"; return; }
  const v = o.verifications;
  let h = `<div class="counts" id="verif-counts">` + ["verified", "screened", "flagged", "failed", "deferred", "pending"].map((k) =>
    `<span class="count st-${k}" data-status="${k}"><b>${v[k] ?? 0}</b> ${k}</span>`).join("") + `</div>`;
  h += `<p class="meta">claims on ${esc(S.task)} by the server's verdict (deferred: checked on this task, held for the held-out tasks' build; pending: results not closed yet)</p>`;
  if (!o.present) { $("#overseer").innerHTML = h + "<p>The overseer has not started (no overseer/state.json).</p>"; return; }
  const j = o.jobs;
  h += `<table class="kv"><tr><th>queue</th><td id="ov-queue">${j.queued} queued · ${j.running} running · ${j.deferred ? j.deferred + " deferred · " : ""}${j.done} done · ${j.failed} failed</td></tr>`;
  h += `<tr><th>checking now</th><td>${o.running.map((r) => `#${esc(r.finding_id)} (${esc(r.agent)}) since ${when(r.since)}`).join("<br>") || "–"}</td></tr>`;
  h += `<tr><th>re-runs in the queue</th><td>${(o.experiments || []).map((e) => `<span class="exp exp-${esc(e.state)}">${esc(e.state)} ${esc(e.label)}${e.node ? " on " + esc(e.node) : ""} · ${esc(dur(e.seconds))}</span>`).join(" ") || "–"}</td></tr>`;
  const done = Object.keys(o.baselines.done), wanted = o.baselines.wanted;
  h += `<tr><th>baselines</th><td>${done.length}/${wanted.length || done.length} checked${wanted.filter((b) => !done.includes(b)).length ? " · waiting: " + esc(wanted.filter((b) => !done.includes(b)).join(", ")) : ""}</td></tr>`;
  h += `<tr><th>compute</th><td>${esc(o.compute.runs)} re-runs · ${num(o.compute.cpu_hours, 2)} CPU h</td></tr></table>`;
  $("#overseer").innerHTML = h;
}

// -- PGR over time: per agent and the team, verified baselines as dashed lines ------------------------------
const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
function renderPlot() {
  const subs = S.submissions.filter((s) => s.task === S.task && s.pgr !== null && s.pgr !== undefined && s.split !== "train_unlabel")
    .map((s) => ({a: agentName(s), t: parseTime(s.created_at), p: Number(s.pgr)})).sort((x, y) => x.t - y.t);
  const bases = S.baselines.filter((b) => b.verified_pgr !== null && b.verified_pgr !== undefined)
    .map((b) => ({name: b.baseline, p: Number(b.verified_pgr)}));
  if (!subs.length) {
    $("#plot").innerHTML = `<p>No evaluations on ${esc(S.task)} yet.</p>`; $("#plot-legend").innerHTML = ""; return;
  }
  const W = 610, H = 280, L = 40, R = 130, T = 10, B = 30;
  const t0 = subs[0].t, t1 = Math.max(subs[subs.length - 1].t, t0 + 60000);
  const all = subs.map((s) => s.p).concat(bases.map((b) => b.p));
  const lo = Math.min(0, ...all), hi = Math.max(1, ...all);
  const X = (t) => L + (W - L - R) * (t - t0) / (t1 - t0), Y = (p) => H - B - (H - T - B) * (p - lo) / (hi - lo);
  const best = {}, lines = {}, teamPts = []; let team = -Infinity;
  for (const s of subs) {
    if (!(s.a in best) || s.p > best[s.a]) { best[s.a] = s.p; (lines[s.a] ||= []).push([s.t, s.p]); }
    if (s.p > team) { team = s.p; teamPts.push([s.t, s.p]); }
  }
  const step = (pts) => pts.map(([t, p], i) => (i ? `H${X(t).toFixed(1)}V${Y(p).toFixed(1)}` : `M${X(t).toFixed(1)},${Y(p).toFixed(1)}`)).join("") + `H${X(t1).toFixed(1)}`;
  let svg = `<svg id="pgr-svg" width="${W}" height="${H}" xmlns="http://www.w3.org/2000/svg" font-size="10">`;
  svg += `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="#999"/><line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="#999"/>`;
  const yt = []; for (let v = Math.ceil(lo * 4) / 4; v <= hi + 1e-9; v += 0.25) yt.push(v);
  for (const v of yt) svg += `<line x1="${L}" x2="${W - R}" y1="${Y(v)}" y2="${Y(v)}" stroke="#eee"/><text x="${L - 4}" y="${Y(v) + 3}" text-anchor="end">${v.toFixed(2)}</text>`;
  const span = (t1 - t0) / 60000, stepMin = span <= 10 ? 1 : span <= 30 ? 5 : span <= 120 ? 15 : 60;
  for (let m = 0; m <= span + 1e-9; m += stepMin) svg += `<text x="${X(t0 + m * 60000)}" y="${H - B + 14}" text-anchor="middle">${m}</text>`;
  svg += `<text x="${(L + W - R) / 2}" y="${H - 3}" text-anchor="middle">minutes since the first evaluation (${esc(clock(t0))})</text>`;
  let labelY = -Infinity;  // labels at the right, pushed apart where baselines lie close
  bases.sort((a, b) => b.p - a.p).forEach((b) => {
    labelY = Math.max(Y(b.p) + 3, labelY + 11);
    svg += `<g class="baseline"><line x1="${L}" x2="${W - R}" y1="${Y(b.p)}" y2="${Y(b.p)}" stroke="#c33" stroke-dasharray="4 3" opacity=".7"/>` +
      `<text x="${W - R + 4}" y="${labelY.toFixed(1)}" fill="#a22">${esc(b.name)} ${b.p.toFixed(2)}</text><title>${esc(b.name)} (verified) ${b.p.toFixed(3)}</title></g>`;
  });
  for (const s of subs) svg += `<circle cx="${X(s.t).toFixed(1)}" cy="${Y(s.p).toFixed(1)}" r="1.6" fill="#bbb"/>`;
  const names = Object.keys(lines).sort();
  names.forEach((a, i) => {
    svg += `<path class="agent" d="${step(lines[a])}" fill="none" stroke="${COLORS[i % 10]}" stroke-width="1.3" opacity=".85"><title>${esc(a)}</title></path>`;
  });
  svg += `<path class="team" d="${step(teamPts)}" fill="none" stroke="#000" stroke-width="2.5"><title>team</title></path></svg>`;
  $("#plot").innerHTML = svg;
  $("#plot-legend").innerHTML = names.map((a, i) => `<span><i style="background:${COLORS[i % 10]}"></i>${esc(a)} ${best[a].toFixed(2)}</span>`).join("") +
    `<span><i style="background:#000"></i>team ${team.toFixed(2)}</span><span><i class="dash"></i>verified baselines</span>`;
}

// -- live updates -----------------------------------------------------------------------------------------
async function streamEvents() {
  // EventSource cannot send an Authorization header, so the SSE stream is read with fetch.
  for (;;) {
    try {
      const r = await fetch("/api/events", {headers: S.token ? {Authorization: "Bearer " + S.token} : {}});
      if (!r.ok) throw new Error("events " + r.status);
      $("#conn").className = "on"; $("#conn").textContent = "live";
      const reader = r.body.getReader(), dec = new TextDecoder();
      let buf = "";
      for (;;) {
        const {value, done} = await reader.read();
        if (done) break;
        buf += dec.decode(value, {stream: true}).replace(/\r\n/g, "\n");
        let i;
        while ((i = buf.indexOf("\n\n")) >= 0) { handleEvent(buf.slice(0, i)); buf = buf.slice(i + 2); }
      }
    } catch (e) { console.log(e); }
    $("#conn").className = "off"; $("#conn").textContent = "offline";
    await new Promise((res) => setTimeout(res, 2000));
    await refresh().catch(() => {});
  }
}
let pending = {};
function soon(name, fn, ms = 500) {  // coalesce bursts of events into one reload
  if (pending[name]) return;
  pending[name] = setTimeout(() => { pending[name] = null; fn().catch(() => {}); }, ms);
}
function handleEvent(block) {
  let type = "message", data = "";
  for (const line of block.split("\n")) {
    if (line.startsWith("event:")) type = line.slice(6).trim();
    else if (line.startsWith("data:")) data += line.slice(5).trim();
  }
  let obj = null; try { obj = JSON.parse(data); } catch (e) { return; }
  if (type === "finding") {
    const f = obj.finding || obj;
    if (f && f.id && f.title !== undefined) addFinding(f); else soon("findings", loadFindings);
    if (f && f.type === "result") { soon("board", loadLeaderboard); soon("overseer", loadOverseer); }
  } else if (type === "submission") { soon("agents", loadAgents); }
  else if (type === "reset") { refresh().catch(() => {}); }
  else if (type === "verification") { soon("board", loadLeaderboard); soon("overseer", loadOverseer); }
}

async function refresh() {
  await loadRun();
  await Promise.all([loadLeaderboard(), loadFindings(), loadOverseer()]);
  await loadAgents();
}
$("#task").addEventListener("change", () => {
  S.task = $("#task").value; $("#sec-detail").hidden = true; S.open = null;
  loadLeaderboard(); loadOverseer(); renderAgents(); renderPlot();
});
for (const id of ["#f-type", "#f-agent"]) $(id).addEventListener("change", renderForum);
$("#f-q").addEventListener("input", renderForum);
$("#token").addEventListener("change", () => { S.token = $("#token").value; localStorage.setItem("aar_token", S.token); refresh(); });
setInterval(() => {  // activity files are not events: poll them; relative times tick
  api("/dashboard/agents.json").then((a) => { S.activity = a; renderAgents(); }).catch(() => {});
  loadOverseer();
}, 5000);
setInterval(() => { loadLeaderboard().catch(() => {}); }, 30000);
refresh().catch((e) => console.log(e)).finally(streamEvents);
