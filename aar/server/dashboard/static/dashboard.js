// aar dashboard: a small vanilla-JS client of the JSON API (no build step, no network beyond this server).
"use strict";
const $ = (s) => document.querySelector(s);
const params = new URLSearchParams(location.search);
if (params.get("token")) localStorage.setItem("aar_token", params.get("token"));
const S = {token: localStorage.getItem("aar_token") || "", task: params.get("task") || "", findings: [],
  submissions: [], agents: [], lastFinding: 0, budget: {}};
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

async function loadTasks() {
  const served = asList(await api("/api/tasks"), "tasks").filter((t) => t.prepared !== false); // admin: unserved too
  const tasks = served.map((t) => (typeof t === "string" ? t : t.task || t.name));
  $("#task").innerHTML = tasks.map((t) => `<option ${t === S.task ? "selected" : ""}>${esc(t)}</option>`).join("");
  if (!S.task) S.task = tasks[0] || "";
}

async function loadLeaderboard() {
  if (!S.task) return;
  const rows = asList(await api("/api/leaderboard?task=" + encodeURIComponent(S.task)), "rows");
  const verif = {};
  try { for (const v of asList(await api("/api/verifications?limit=10000"), "verifications")) verif[v.finding_id] = v; }
  catch (e) { console.log(e); }
  const isRanked = (r) => !(r.flags || []).length && r.verified_pgr !== null && r.verified_pgr !== undefined &&
    (r.verification_status || "verified") === "verified";
  // verified leaderboard: unflagged verified rows by verified PGR, then everything else by public PGR
  rows.sort((a, b) => (isRanked(b) - isRanked(a)) ||
    (isRanked(a) ? b.verified_pgr - a.verified_pgr : (b.pgr ?? -1e9) - (a.pgr ?? -1e9)));
  let rank = 0;
  $("#leaderboard tbody").innerHTML = rows.map((r) => {
    const flags = r.flags || [];
    const ranked = isRanked(r);
    const v = verif[r.finding_id] || {};
    const gen = Object.entries(r.generalization || v.generalization || {}).map(([t, p]) => `${esc(t)} ${num(p, 2)}`).join(", ");
    return `<tr class="${ranked ? "" : "unranked"}"><td>${ranked ? ++rank : "–"}</td><td>${esc(agentName(r))}</td>
      <td>${esc(r.idea || r.title || "")}</td><td>${num(r.pgr ?? r.public_pgr)}</td><td>${num(r.private_pgr)}</td>
      <td>${num(r.verified_pgr)}${r.verified_pgr_se != null ? " ± " + num(r.verified_pgr_se) : ""}</td>
      <td>${gen || "–"}</td><td class="flag">${esc(flags.join(", "))}</td></tr>`;
  }).join("");
}

function findingHtml(f) {
  return `<div class="finding ${esc(f.type)}" data-id="${f.id}" data-type="${esc(f.type)}" data-agent="${esc(agentName(f))}">
    <div class="meta">#${f.id} · ${esc(f.type)} · ${esc(agentName(f))} · ${esc(f.task || "")} · ${esc(f.created_at || "")}
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
    `<div class="tl">${esc((f.created_at || "").replace("T", " ").slice(0, 19))} ${esc(agentName(f))} ` +
    `[${esc(f.type)}] ${esc(f.title)}</div>`).join("");
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

async function loadAgents() {
  S.agents = asList(await api("/api/agents"), "agents");
  try { S.submissions = asList(await api("/api/submissions"), "submissions"); } catch (e) { S.submissions = []; }
  try { S.activity = await api("/dashboard/agents.json"); } catch (e) { S.activity = {agents: {}}; }
  renderAgents();
  renderPlot();
}
function renderAgents() {
  // budgets are per agent and task for the whole run: show what is left on the selected task
  const last = {}, evals = {}, onTask = {};
  for (const s of S.submissions) {
    const a = agentName(s); evals[a] = (evals[a] || 0) + 1; last[a] = "evaluate " + (s.created_at || "");
    if (s.task === S.task) onTask[a] = (onTask[a] || 0) + 1;
  }
  const act = (S.activity && S.activity.agents) || {}, budget = S.activity && S.activity.budget;
  for (const f of S.findings) last[agentName(f)] = `${f.type}: ${f.title} ${f.created_at || ""}`;
  for (const [a, r] of Object.entries(act)) last[a] = r.last_action + (r.t ? " · " + r.t : "");
  $("#agents tbody").innerHTML = S.agents.filter((a) => a.role !== "admin").map((a) => {
    const n = agentName(a);
    return `<tr data-agent="${esc(n)}"><td>${esc(n)}</td><td>${esc(a.state || a.role || "")}</td>
      <td>${esc(a.last_action || last[n] || "–")}</td><td>${evals[n] || 0}</td>
      <td>${esc(a.remaining_budget ?? (budget ? Math.max(0, budget - (onTask[n] || 0)) + "/" + budget + " on " + S.task : "–"))}</td></tr>`;
  }).join("");
}

function renderPlot() {
  const subs = S.submissions.filter((s) => s.task === S.task && s.pgr !== null && s.pgr !== undefined)
    .map((s) => ({a: agentName(s), t: Date.parse(s.created_at.endsWith("Z") || s.created_at.includes("+") ? s.created_at : s.created_at + "Z"), p: Number(s.pgr)}))
    .sort((x, y) => x.t - y.t);
  const W = 520, H = 240, P = 34;
  if (!subs.length) { $("#plot").innerHTML = "<p>No evaluations yet.</p>"; return; }
  const t0 = subs[0].t, t1 = Math.max(subs[subs.length - 1].t, t0 + 1000);
  const ps = subs.map((s) => s.p), lo = Math.min(0, ...ps), hi = Math.max(1, ...ps);
  const X = (t) => P + (W - 2 * P) * (t - t0) / (t1 - t0), Y = (p) => H - P - (H - 2 * P) * (p - lo) / (hi - lo);
  const best = {}, lines = {}; let team = -Infinity; const teamPts = [];
  for (const s of subs) {
    if (!(s.a in best) || s.p > best[s.a]) { best[s.a] = s.p; (lines[s.a] ||= []).push([s.t, s.p]); }
    if (s.p > team) { team = s.p; teamPts.push([s.t, s.p]); }
  }
  const colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
  const step = (pts) => { let d = ""; pts.forEach(([t, p], i) => { d += (i ? `H${X(t).toFixed(1)}V${Y(p).toFixed(1)}` : `M${X(t).toFixed(1)},${Y(p).toFixed(1)}`); }); return d + `H${X(t1).toFixed(1)}`; };
  let svg = `<svg id="pgr-svg" width="${W}" height="${H}" xmlns="http://www.w3.org/2000/svg" font-size="10">`;
  svg += `<line x1="${P}" y1="${H - P}" x2="${W - P}" y2="${H - P}" stroke="#999"/><line x1="${P}" y1="${P}" x2="${P}" y2="${H - P}" stroke="#999"/>`;
  for (const v of [lo, (lo + hi) / 2, hi]) svg += `<text x="2" y="${Y(v) + 3}">${v.toFixed(2)}</text>`;
  svg += `<text x="${W - P - 70}" y="${H - 8}">${((t1 - t0) / 60000).toFixed(1)} min</text>`;
  Object.keys(lines).sort().forEach((a, i) => {
    svg += `<path d="${step(lines[a])}" fill="none" stroke="${colors[i % 10]}" stroke-width="1.2" opacity=".8"><title>${esc(a)}</title></path>`;
  });
  svg += `<path class="team" d="${step(teamPts)}" fill="none" stroke="#000" stroke-width="2.5"><title>team</title></path></svg>`;
  $("#plot").innerHTML = svg;
}

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
function handleEvent(block) {
  let type = "message", data = "";
  for (const line of block.split("\n")) {
    if (line.startsWith("event:")) type = line.slice(6).trim();
    else if (line.startsWith("data:")) data += line.slice(5).trim();
  }
  let obj = null; try { obj = JSON.parse(data); } catch (e) { return; }
  if (type === "finding") {
    const f = obj.finding || obj;
    if (f && f.id && f.title !== undefined) addFinding(f); else loadFindings();
    if (f && f.type === "insight") loadLeaderboard().catch(() => {});
  } else if (type === "submission") { loadAgents().catch(() => {}); loadLeaderboard().catch(() => {}); }
  else if (type === "reset") { refresh().catch(() => {}); }
  else if (type === "verification") { loadLeaderboard().catch(() => {}); }
}

async function refresh() { await loadTasks(); await Promise.all([loadLeaderboard(), loadFindings()]); await loadAgents(); }
$("#task").addEventListener("change", () => { S.task = $("#task").value; loadLeaderboard(); renderPlot(); });
for (const id of ["#f-type", "#f-agent"]) $(id).addEventListener("change", renderForum);
$("#f-q").addEventListener("input", renderForum);
$("#token").addEventListener("change", () => { S.token = $("#token").value; localStorage.setItem("aar_token", S.token); refresh(); });
setInterval(() => { loadLeaderboard().catch(() => {}); }, 15000);
refresh().catch((e) => console.log(e)).finally(streamEvents);
