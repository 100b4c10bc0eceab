// The live part of wfe's page: the runs table refreshed, a run's nodes followed from its event
// stream, its graph drawn with mermaid.js. Only the JSON API is used. Every value from the
// server is user data and reaches the page through textContent, never as HTML (mermaid's own
// sanitised SVG aside).
"use strict";

(() => {
  const body = document.body;
  const root = body.dataset.root || "/";
  const TOKEN_KEY = "wfe-token";
  const RUNS_LIMIT = 50;
  const RUNS_REFRESH_MS = 3000;
  const STATUS_POLL_MS = 3000;
  const $ = (selector) => document.querySelector(selector);
  const { nodeRow, applyEvent, itemSummary, readEvents, formatError } = wfeRunEvents;

  // ?token= is kept for this tab only and taken out of the address bar and history.
  function takeToken() {
    const url = new URL(location.href);
    const fromUrl = url.searchParams.get("token");
    if (fromUrl) {
      sessionStorage.setItem(TOKEN_KEY, fromUrl);
      url.searchParams.delete("token");
      history.replaceState(history.state, "", url);
    }
    return sessionStorage.getItem(TOKEN_KEY);
  }
  const token = takeToken();

  function headers(accept) {
    const result = { Accept: accept };
    if (token) result.Authorization = "Bearer " + token;
    return result;
  }

  async function getJson(path) {
    const response = await fetch(root + path,
      { headers: headers("application/json"), cache: "no-store" });
    const answer = await response.json().catch(() => null);
    if (!response.ok) {
      throw new Error(answer && typeof answer.detail === "string"
        ? response.status + ": " + answer.detail : "HTTP " + response.status);
    }
    return answer;
  }

  const segment = (value) => encodeURIComponent(String(value));
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  function setNotice(text) {
    $("#notice").textContent = text;
  }

  // --- formatting (the same texts as the server-rendered page) ---------------------------------

  function element(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  function moment(text) {
    const ms = typeof text === "string" ? Date.parse(text) : NaN;
    return Number.isNaN(ms) ? null : ms;
  }

  function utcTime(text) {
    const ms = moment(text);
    if (ms === null) return "-";
    return new Date(ms).toISOString().slice(0, 19).replace("T", " ");
  }

  function formatDuration(ms) {
    if (ms < 1000) return Math.round(ms) + " ms";
    if (ms < 60000) return (ms / 1000).toFixed(2) + " s";
    let minutes = Math.floor(Math.round(ms / 1000) / 60);
    const seconds = Math.round(ms / 1000) % 60;
    if (minutes < 60) return minutes + " min " + String(seconds).padStart(2, "0") + " s";
    const hours = Math.floor(minutes / 60);
    minutes %= 60;
    return hours + " h " + String(minutes).padStart(2, "0") + " min";
  }

  function runDuration(run) {
    const started = moment(run.created_at), finished = moment(run.finished_at);
    if (started === null || finished === null) return "-";
    return formatDuration(Math.max(0, finished - started));
  }

  function statusBadge(status) {
    const badge = element("span", status || "unknown", "status");
    badge.dataset.status = String(status || "unknown");
    return badge;
  }

  function row(cells) {
    const tr = document.createElement("tr");
    for (const cell of cells) {
      const td = document.createElement("td");
      td.append(cell);
      tr.append(td);
    }
    return tr;
  }

  // --- the runs table ---------------------------------------------------------------------------

  function runLink(runId) {
    const link = element("a", undefined, "run-link");
    link.href = root + "?run=" + segment(runId);
    link.dataset.runId = runId;
    link.append(element("code", runId));
    return link;
  }

  function renderRuns(runs) {
    const rows = runs.map((run) => {
      const tr = row([runLink(String(run.run_id)), String(run.workflow ?? ""),
        statusBadge(run.status), utcTime(run.created_at), runDuration(run),
        String(run.steps ?? "")]);
      tr.dataset.runId = String(run.run_id);
      return tr;
    });
    $("#runs tbody").replaceChildren(...rows);
    $("#runs-empty").hidden = runs.length > 0;
    markSelectedRun();
  }

  function markSelectedRun() {
    for (const tr of document.querySelectorAll("#runs tbody tr")) {
      if (current && tr.dataset.runId === current.runId) tr.setAttribute("aria-current", "true");
      else tr.removeAttribute("aria-current");
    }
  }

  async function refreshRuns() {
    try {
      const answer = await getJson("runs?limit=" + RUNS_LIMIT);
      renderRuns(Array.isArray(answer.runs) ? answer.runs : []);
      setNotice("");
    } catch (error) {
      setNotice("Runs could not be loaded: " + error.message);
    }
  }

  // --- one run's nodes ------------------------------------------------------------------------

  let current = null;

  function renderNodes(view) {
    if (view !== current) return;
    const rows = [...view.nodes.values()].map((node) => {
      const tr = row([node.name, statusBadge(node.status),
        node.attempts ? String(node.attempts) : "",
        node.durationMs === null ? "" : formatDuration(node.durationMs),
        itemSummary(node.items), node.error]);
      tr.dataset.node = node.name;
      return tr;
    });
    $("#nodes tbody").replaceChildren(...rows);
    colourGraph(view);
  }

  function scheduleRender(view) {
    if (view.renderQueued) return;
    view.renderQueued = true;
    requestAnimationFrame(() => { view.renderQueued = false; renderNodes(view); });
  }

  function renderSummary(view) {
    const run = view.run;
    const summary = element("p");
    summary.id = "run-summary";
    summary.append(String(run.workflow ?? ""), " · ", statusBadge(run.status),
      " · started " + utcTime(run.created_at) + " UTC · " + String(run.step ?? 0) + " steps");
    const parts = [summary];
    if (run.error) parts.push(element("p", formatError(run.error), "run-error"));
    $("#run-status").replaceChildren(...parts);
  }

  async function refreshSummary(view) {
    const run = await getJson("runs/" + segment(view.runId)).catch(() => null);
    if (run && view === current) {
      view.run = run;
      renderSummary(view);
    }
    return run;
  }

  // --- the event stream ----------------------------------------------------------------------

  // Returns true once the run has finished; false when the stream ended before that.
  async function streamOnce(view) {
    let finished = false;
    const url = root + "runs/" + segment(view.runId) + "/events?after=" + view.lastSeq;
    const response = await fetch(url,
      { headers: headers("text/event-stream"), signal: view.abort.signal, cache: "no-store" });
    if (!response.ok) throw new Error("HTTP " + response.status);
    await readEvents(response, (id, data) => {
      const event = JSON.parse(data);
      view.lastSeq = Number(id ?? event.seq ?? view.lastSeq);
      applyEvent(view, event);
      scheduleRender(view);
      if (event.event === "run_finished") finished = true;
    });
    return finished;
  }

  // The stream ends at run_finished, or early when the run waits or was interrupted: then look
  // at its status now and then, and follow it again once it runs.
  async function followEvents(view) {
    while (view === current) {
      let finished = false;
      try {
        finished = await streamOnce(view);
      } catch (error) {
        if (view.abort.signal.aborted) return;
        setNotice("The run's events could not be read: " + error.message);
      }
      if (view !== current) return;
      await refreshSummary(view);
      refreshRuns();
      if (finished) return;
      do {
        await sleep(STATUS_POLL_MS);
        if (view !== current) return;
      } while ((await refreshSummary(view) || {}).status !== "running");
    }
  }

  // --- the graph ------------------------------------------------------------------------------

  let mermaidLoading = null;
  let graphCount = 0;
  const nonce = document.currentScript ? document.currentScript.nonce : "";

  // The page's CSP runs only scripts with its nonce: wfe's own copy of mermaid.js is fetched
  // (with the token, like any request to this server) and run inline.
  async function appendMermaidScript(source) {
    const response = await fetch(source, { headers: headers("text/javascript") });
    if (!response.ok) {
      throw new Error("mermaid.js could not be loaded (HTTP " + response.status + ")");
    }
    const script = document.createElement("script");
    script.nonce = nonce;
    script.text = await response.text();
    document.head.append(script);
  }

  function loadMermaid() {
    mermaidLoading ??= appendMermaidScript(body.dataset.mermaidSrc).then(() => {
      if (!window.mermaid) throw new Error("mermaid.js did not define mermaid");
      window.mermaid.initialize({ startOnLoad: false, securityLevel: "strict", theme: "neutral" });
      return window.mermaid;
    });
    return mermaidLoading;
  }

  async function showGraph(view, text) {
    const figure = $("#graph");
    const pre = element("pre", text || "No graph: the server does not serve this run's workflow.");
    pre.id = "graph-text";
    figure.replaceChildren(pre);
    figure.dataset.rendered = "text";
    if (!text) return;
    try {
      const mermaid = await loadMermaid();
      graphCount += 1;
      const { svg } = await mermaid.render("wfe-graph-" + graphCount, text);
      if (view !== current) return;
      figure.innerHTML = svg;
      figure.dataset.rendered = "svg";
      colourGraph(view);
    } catch (error) {
      figure.append(element("p", "Showing the Mermaid text: " + error.message, "hint"));
    }
  }

  // Plain node names are drawn as Mermaid ids `n_NAME`: give their boxes the node's status.
  function colourGraph(view) {
    if ($("#graph").dataset.rendered !== "svg") return;
    for (const node of view.nodes.values()) {
      if (!/^[A-Za-z0-9_]+$/.test(node.name)) continue;
      for (const box of document.querySelectorAll('#graph g.node[id*="-n_' + node.name + '-"]')) {
        box.dataset.status = node.status;
      }
    }
  }

  // --- choosing a run -------------------------------------------------------------------------

  async function selectRun(runId, push) {
    if (current) current.abort.abort();
    if (push) {
      const url = new URL(location.href);
      url.searchParams.set("run", runId);
      history.pushState(null, "", url);
    }
    const view = { runId, nodes: new Map(), lastSeq: 0, status: "", run: null,
      abort: new AbortController(), renderQueued: false };
    current = view;
    $("#run").hidden = false;
    $("#run-id").textContent = runId;
    markSelectedRun();
    try {
      view.run = await getJson("runs/" + segment(runId));
    } catch (error) {
      if (view !== current) return;
      const problem = "Run " + runId + " could not be loaded: " + error.message;
      $("#run-status").replaceChildren(element("p", problem, "problem"));
      $("#nodes tbody").replaceChildren();
      return showGraph(view, "");
    }
    if (view !== current) return;
    view.runId = String(view.run.run_id || runId); // the full id, when a prefix was given
    $("#run-id").textContent = view.runId;
    markSelectedRun();
    renderSummary(view);
    const workflow = await getJson("workflows/" + segment(view.run.workflow)).catch(() => null);
    if (view !== current) return;
    const graphNodes = (workflow && workflow.graph && workflow.graph.nodes) || [];
    for (const node of graphNodes) if (node.kind !== "end") nodeRow(view, String(node.id));
    renderNodes(view);
    showGraph(view, workflow && workflow.mermaid);
    followEvents(view);
  }

  $("#runs").addEventListener("click", (event) => {
    const link = event.target.closest("a.run-link");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    selectRun(link.dataset.runId, true);
  });

  window.addEventListener("popstate", () => {
    const runId = new URL(location.href).searchParams.get("run");
    if (runId) selectRun(runId, false);
    else if (current) {
      current.abort.abort();
      current = null;
      $("#run").hidden = true;
      markSelectedRun();
    }
  });

  setInterval(() => { if (!document.hidden) refreshRuns(); }, RUNS_REFRESH_MS);
  refreshRuns();
  if (body.dataset.run) selectRun(body.dataset.run, false);
})();
