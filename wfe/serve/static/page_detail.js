// A run in depth: the step panel of one node (its visits with attempts, updates, errors, the
// state after each with the keys it added, changed or removed, a fork from it, and its logs)
// and the timeline of every step, map item and parallel branch as a lane. Reads what
// run_events.js folded and GET /runs/{id}/history; draws with textContent only.
"use strict";

const wfeDetail = (() => {
  const { $, element, timeTag, formatDuration, statusBadge, json, moment, getJson, segment } =
    wfePage;
  const { itemSummary, formatError } = wfeRunEvents;
  const MOST_LANES = 200;
  const NO_STEP = { pending: "Not run yet.", running: "Running: its step is stored when it finishes.",
    retrying: "Retrying: its step is stored when it finishes." };

  const ownsName = (node, name) =>
    name === node || name.startsWith(node + "[") || name.startsWith(node + "/");

  // The state after each step comes from the store (GET /runs/{id}/history, the same replay
  // as `wfe history`), never from a replay of updates here: reducers (append, merge) and
  // snapshots make the stored state what it is. Fetched while a panel is open, again when the
  // run has more steps.
  function historyOf(view) {
    const wanted = (view.run && view.run.steps || []).length + "|" + (view.run || {}).status;
    if (view.history && view.history.key === wanted) return view.history;
    if (view.historyWanted !== wanted) {
      view.historyWanted = wanted;
      getJson("runs/" + segment(view.runId) + "/history")
        .then((answer) => { view.history = { key: wanted, steps: answer.steps || [] }; })
        .catch((error) => { view.history = { key: wanted, error: error.message }; })
        .then(() => { if (current(view)) renderStepPanel(view, view.panelNode, view.panelStep); });
    }
    return view.history;
  }

  const current = (view) => !view.abort || !view.abort.signal.aborted;
  const shown = (value) => value === undefined ? "" : JSON.stringify(value);

  // Every key of the state after the step; those the step added (+), changed (~) or removed (-)
  // are marked, as `wfe history` marks them.
  function stateTable(before, after) {
    const table = element("table", undefined, "state-diff");
    const keys = [...Object.keys(after), ...Object.keys(before).filter((k) => !(k in after))];
    for (const key of keys) {
      const change = !(key in before) ? "added" : !(key in after) ? "removed"
        : shown(before[key]) !== shown(after[key]) ? "changed" : "";
      const row = element("tr");
      if (change) row.dataset.change = change;
      const sign = { added: "+", changed: "~", removed: "-" }[change] || "";
      const value = element("td");
      value.append(element("code", shown(key in after ? after[key] : before[key])));
      if (change === "changed") value.append(element("span", " was " + shown(before[key]), "was"));
      row.append(element("td", sign, "sign"), element("th", key), value);
      row.title = change ? key + " " + change + " by this step" : key;
      table.append(row);
    }
    return table;
  }

  function stateAfter(view, step, history) {
    if (!history) return [element("p", "Loading the state after it…", "hint")];
    if (history.error) {
      return [element("p", "The state after it could not be loaded: " + history.error, "problem")];
    }
    const index = history.steps.findIndex((entry) => entry.node !== null && entry.step === step.step);
    if (index < 1) return [element("p", "Not in the run's history yet.", "hint")];
    const after = history.steps[index].state || {};
    const fork = element("button", "Fork from here…");
    fork.type = "button";
    fork.dataset.action = "fork-form";
    fork.addEventListener("click", () => {
      const open = fork.parentElement.querySelector("form.fork");
      if (open) { open.remove(); return; }
      fork.after(wfeActions.forkForm(view, step.step, after, view.started));
    });
    return [element("h5", "State after"), stateTable(history.steps[index - 1].state || {}, after),
      fork];
  }

  function stepArticle(view, step, history) {
    const article = element("article");
    article.id = "step-" + step.step;
    const title = element("h4");
    const link = element("a", "Step " + step.step);
    link.href = "#step=" + step.step;
    title.append(link, " · attempt " + step.attempt + " · ", timeTag(step.started_at),
      " · " + formatDuration(Number(step.duration_ms || 0)) + " · " + step.outcome);
    article.append(title);
    if (step.error) article.append(element("p", formatError(step.error), "run-error"));
    const items = Array.isArray(step.items) ? itemCounts(step.items) : "";
    if (items) article.append(element("p", "Items: " + items));
    article.append(element("h5", "Updates"), json(step.updates || {}),
      ...stateAfter(view, step, history));
    return article;
  }

  function itemCounts(records) {
    const counts = new Map();
    for (const record of records) counts.set(record.status, (counts.get(record.status) || 0) + 1);
    return [...counts.entries()].sort().map(([s, n]) => n + " " + s).join(" · ");
  }

  function logList(view, node) {
    const lines = view.logs.filter((entry) => ownsName(node, entry.node));
    if (!lines.length) return element("p", "No log lines.", "hint");
    const list = element("ol", undefined, "logs");
    for (const entry of lines) {
      const li = element("li");
      li.append(timeTag(entry.ts), " ", entry.node === node ? "" : "[" + entry.node + "] ",
        String(entry.message));
      list.append(li);
    }
    return list;
  }

  // The panel is redrawn only when what it shows changed (new steps, logs or status).
  function renderStepPanel(view, node, wantedStep) {
    const panel = $("#step-panel");
    if (!node) { panel.hidden = true; panel.replaceChildren(); return; }
    const steps = (view.run && view.run.steps || []).filter((s) => s.node === node);
    const row = view.nodes.get(node);
    const history = steps.length ? historyOf(view) : undefined;
    const key = [node, steps.length, view.logs.length, row ? row.status : "",
      view.run ? view.run.status : "", wantedStep, history ? history.key : ""].join("|");
    if (panel.dataset.key === key && !panel.hidden) return;
    panel.dataset.key = key;
    const heading = element("h3", "Node " + node + " ");
    heading.id = "step-heading";
    heading.append(statusBadge(row ? row.status : "pending"));
    const close = element("button", "Close");
    close.type = "button";
    close.dataset.action = "close-panel";
    const parts = [heading, close];
    for (const step of steps) {
      const article = stepArticle(view, step, history);
      if (String(step.step) === String(wantedStep)) article.setAttribute("aria-current", "true");
      parts.push(article);
    }
    if (!steps.length) parts.push(element("p", NO_STEP[row ? row.status : "pending"] ||
      "No step of it was stored.", "hint"));
    if (row && row.items) parts.push(element("p", "Items now: " + itemSummary(row.items)));
    parts.push(element("h4", "Logs"), logList(view, node));
    panel.replaceChildren(...parts);
    panel.hidden = false;
  }

  function bar(span, from, width) {
    const piece = element("span", undefined, "bar");
    piece.dataset.status = span.status;
    const end = span.end ?? Date.now();
    piece.style.left = ((span.start - from) / width * 100).toFixed(3) + "%";
    piece.style.width = (Math.max(0, end - span.start) / width * 100).toFixed(3) + "%";
    piece.title = span.status + " · " + formatDuration(Math.max(0, end - span.start));
    return piece;
  }

  // One lane per node, map item (`each[3]`) and branch (`par/a`), bars placed by time.
  function renderTimeline(view) {
    const box = $("#timeline");
    const lanes = [...view.spans.entries()].slice(0, MOST_LANES);
    if (!lanes.length) {
      box.replaceChildren(element("p", "No steps yet.", "hint"));
      return;
    }
    const starts = lanes.flatMap(([, spans]) => spans.map((s) => s.start));
    const from = Math.min(moment(view.run && view.run.created_at) ?? Infinity, ...starts);
    const ends = lanes.flatMap(([, spans]) => spans.map((s) => s.end ?? Date.now()));
    const width = Math.max(1, Math.max(...ends) - from);
    const cells = [];
    for (const [name, spans] of lanes) {
      const label = element("span", name, "lane");
      label.title = name;
      const track = element("span", undefined, "track");
      track.dataset.lane = name;
      track.append(...spans.map((span) => bar(span, from, width)));
      cells.push(label, track);
    }
    box.replaceChildren(...cells);
  }

  return { renderStepPanel, renderTimeline };
})();
