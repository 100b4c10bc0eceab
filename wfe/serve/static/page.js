// The live part of wfe's page: the runs table kept up to date in place, a run's nodes followed
// from its event stream, its graph drawn with mermaid.js, its step panel and timeline. Only the
// JSON API is used. Every value from the server is user data and reaches the page through
// textContent, never as HTML (mermaid's own sanitised SVG aside).
"use strict";

(() => {
  const body = document.body;
  const { root, $, headers, getJson, segment, setNotice, element, timeTag,
    localiseTimes, formatDuration, runDuration, statusBadge, fill, labelledRow } = wfePage;
  const { nodeRow, applyEvent, itemSummary, readEvents, formatError } = wfeRunEvents;
  const RUN_LABELS = ["Run", "Workflow", "Status", "Started", "Duration", "Steps"];
  const NODE_LABELS = ["Node", "Status", "Visits", "Attempts", "Duration", "Items", "Error"];
  const RUNS_PAGE = 50;
  const RUNS_REFRESH_MS = 3000;
  const STATUS_POLL_MS = 3000;
  const TICK_MS = 1000;
  let runsLimit = Number(body.dataset.limit) || RUNS_PAGE;
  let current = null;

  // --- the runs table: rows updated in place, keyed by run id --------------------------------

  function runLink(runId) {
    const link = element("a", undefined, "run-link");
    link.href = root + "?run=" + segment(runId);
    link.dataset.runId = runId;
    link.append(element("code", runId));
    return link;
  }

  function runsQuery() {
    const form = $("#filters");
    const query = new URLSearchParams({ limit: String(runsLimit) });
    for (const name of ["status", "workflow"]) {
      const value = form.elements[name].value;
      if (value) query.set(name, value);
    }
    return query;
  }

  function renderRuns(runs) {
    const tbody = $("#runs tbody");
    const existing = new Map([...tbody.rows].map((tr) => [tr.dataset.runId, tr]));
    let before = tbody.firstElementChild;
    for (const run of runs) {
      const runId = String(run.run_id);
      const tr = existing.get(runId) || labelledRow(RUN_LABELS, runId, "runId");
      existing.delete(runId);
      const cells = [runLink(runId), String(run.workflow ?? ""), statusBadge(run.status),
        timeTag(run.created_at), runDuration(run), String(run.steps ?? "")];
      cells.forEach((cell, i) => fill(tr.cells[i], cell));
      tr.dataset.status = String(run.status);
      if (tr !== before) tbody.insertBefore(tr, before);
      before = tr.nextElementSibling;
    }
    for (const stale of existing.values()) stale.remove();
    $("#runs-empty").hidden = runs.length > 0;
    $("#runs-more").hidden = runs.length < runsLimit;
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
      const answer = await getJson("runs?" + runsQuery());
      renderRuns(Array.isArray(answer.runs) ? answer.runs : []);
      setNotice("");
    } catch (error) {
      setNotice("Runs could not be loaded: " + error.message);
    }
  }

  // --- one run's nodes, summary and title ----------------------------------------------------

  function renderNodes(view) {
    if (view !== current) return;
    const tbody = $("#nodes tbody");
    const existing = new Map([...tbody.rows].map((tr) => [tr.dataset.node, tr]));
    let before = tbody.firstElementChild;
    for (const node of view.nodes.values()) {
      const tr = existing.get(node.name) || labelledRow(NODE_LABELS, node.name, "node");
      existing.delete(node.name);
      const link = element("a", node.name, "node-link");
      link.href = "#node=" + segment(node.name);
      const visits = view.run && view.run.visits ? view.run.visits[node.name] : undefined;
      const live = node.status === "running" && node.startedAt ? Date.now() - node.startedAt : null;
      const duration = live ?? node.durationMs;
      const cells = [link, statusBadge(node.status), visits ? String(visits) : "",
        node.attempts ? String(node.attempts) : "",
        duration === null || duration === undefined ? "" : formatDuration(duration),
        itemSummary(node.items), node.error];
      cells.forEach((cell, i) => fill(tr.cells[i], cell));
      if (tr !== before) tbody.insertBefore(tr, before);
      before = tr.nextElementSibling;
    }
    for (const stale of existing.values()) stale.remove();
    wfeGraph.colourGraph(view);
    wfeDetail.renderTimeline(view);
    wfeDetail.renderStepPanel(view, view.panelNode, view.panelStep);
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
    summary.append(String(run.workflow ?? ""), " · ", statusBadge(run.status), " · started ",
      timeTag(run.created_at), " · " + runDuration(run) + " · " + String(run.step ?? 0) + " steps");
    const parts = [summary];
    if (run.error) parts.push(element("p", formatError(run.error), "run-error"));
    document.title = String(run.status) + " · " + view.runId + " · wfe";
    $("#run-status").replaceChildren(...parts);
    wfeActions.renderActions(view, { refresh: followAgain, started: (id) => selectRun(id, true) });
  }

  async function refreshSummary(view) {
    const run = await getJson("runs/" + segment(view.runId)).catch(() => null);
    if (run && view === current) {
      view.run = run;
      renderSummary(view);
      scheduleRender(view);
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
      if (event.event === "node_finished" || event.event === "run_waiting") view.stale = true;
      if (event.event === "run_finished") finished = true;
    });
    return finished;
  }

  // The stream ends at run_finished, or early when the run waits or was interrupted: then look
  // at its status now and then (at once after Resume), and follow it again once it has moved.
  async function followEvents(view) {
    if (view.following) return;
    view.following = true;
    try {
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
        let run;
        do {
          await new Promise((wake) => { view.wake = wake; setTimeout(wake, STATUS_POLL_MS); });
          if (view !== current) return;
          run = await refreshSummary(view) || {};
        } while (run.status !== "running" && !(Number(run.last_seq) > view.lastSeq));
      }
    } finally {
      view.following = false;
    }
  }

  // After Resume or Cancel: the run's new status, and its events again.
  async function followAgain(view) {
    await refreshSummary(view);
    refreshRuns();
    if (view.wake) view.wake();
    followEvents(view);
  }

  // --- choosing a run, a node, a step ----------------------------------------------------------

  function readHash() {
    const hash = new URLSearchParams(location.hash.slice(1));
    return { node: hash.get("node"), step: hash.get("step") };
  }

  function openPanelFromHash(view) {
    const { node, step } = readHash();
    const stepped = step && view.run && (view.run.steps || []).find((s) => String(s.step) === step);
    view.panelNode = stepped ? stepped.node : node;
    view.panelStep = step;
    wfeDetail.renderStepPanel(view, view.panelNode, view.panelStep);
    if (view.panelNode) $("#step-panel").scrollIntoView({ block: "nearest" });
  }

  function showDetail() {
    body.classList.add("detail-open");
    const section = $("#run");
    const box = section.getBoundingClientRect();
    if (box.top < 0 || box.top > innerHeight) section.scrollIntoView({ block: "start" });
  }

  async function selectRun(runId, push) {
    if (current) current.abort.abort();
    if (push) {
      const url = new URL(location.href);
      url.searchParams.set("run", runId);
      url.hash = "";
      history.pushState(null, "", url);
    }
    const view = { runId, nodes: new Map(), spans: new Map(), logs: [], edges: new Set(),
      lastSeq: 0, status: "", run: null, workflow: null, abort: new AbortController(),
      renderQueued: false, panelNode: null, panelStep: null,
      started: (id) => selectRun(id, true) };
    current = view;
    $("#run").hidden = false;
    $("#run-id").textContent = runId;
    $("#run-actions").replaceChildren();
    $("#run-actions").dataset.key = "";
    markSelectedRun();
    showDetail();
    try {
      view.run = await getJson("runs/" + segment(runId));
    } catch (error) {
      if (view !== current) return;
      const problem = "Run " + runId + " could not be loaded: " + error.message;
      $("#run-status").replaceChildren(element("p", problem, "problem"));
      $("#nodes tbody").replaceChildren();
      return wfeGraph.showGraph(view, "", () => view === current);
    }
    if (view !== current) return;
    view.runId = String(view.run.run_id || runId); // the full id, when a prefix was given
    $("#run-id").textContent = view.runId;
    markSelectedRun();
    view.workflow = await getJson("workflows/" + segment(view.run.workflow)).catch(() => null);
    if (view !== current) return;
    const graphNodes = (view.workflow && view.workflow.graph && view.workflow.graph.nodes) || [];
    for (const node of graphNodes) if (node.kind !== "end") nodeRow(view, String(node.id));
    $("#nodes tbody").replaceChildren();
    renderSummary(view);
    renderNodes(view);
    openPanelFromHash(view);
    wfeGraph.showGraph(view, view.workflow && view.workflow.mermaid, () => view === current);
    followEvents(view);
  }

  function closeRun() {
    if (current) current.abort.abort();
    current = null;
    $("#run").hidden = true;
    body.classList.remove("detail-open");
    document.title = "wfe runs";
    markSelectedRun();
  }

  $("#runs").addEventListener("click", (event) => {
    const link = event.target.closest("a.run-link");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    selectRun(link.dataset.runId, true);
  });

  $("#back").addEventListener("click", (event) => {
    event.preventDefault();
    const url = new URL(location.href);
    url.searchParams.delete("run");
    url.hash = "";
    history.pushState(null, "", url);
    closeRun();
  });

  $("#step-panel").addEventListener("click", (event) => {
    if (!event.target.closest('[data-action="close-panel"]')) return;
    history.replaceState(null, "", location.pathname + location.search);
    if (current) openPanelFromHash(current);
  });

  window.addEventListener("hashchange", () => { if (current) openPanelFromHash(current); });

  window.addEventListener("popstate", () => {
    const runId = new URL(location.href).searchParams.get("run");
    if (runId && (!current || current.runId !== runId)) selectRun(runId, false);
    else if (!runId) closeRun();
  });

  $("#filters").addEventListener("change", () => {
    runsLimit = RUNS_PAGE;
    refreshRuns();
  });

  $("#runs-more").addEventListener("click", (event) => {
    event.preventDefault();
    runsLimit = Math.min(runsLimit + RUNS_PAGE, 1000);
    refreshRuns();
  });

  // Live counters: a running run's duration and its running nodes' time so far.
  setInterval(() => {
    if (document.hidden || !current || !current.run || current.run.status !== "running") return;
    if (current.stale) {
      current.stale = false;
      refreshSummary(current); // the visits, steps and updates stored since
    }
    renderNodes(current);
    renderSummary(current);
  }, TICK_MS);

  setInterval(() => { if (!document.hidden) refreshRuns(); }, RUNS_REFRESH_MS);
  localiseTimes(document);
  wfeActions.decorateWorkflows((runId) => { refreshRuns(); selectRun(runId, true); });
  refreshRuns();
  if (body.dataset.run) selectRun(body.dataset.run, false);
})();
