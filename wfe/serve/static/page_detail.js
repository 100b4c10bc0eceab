// A run in depth: the step panel of one node (its visits with attempts, updates, errors and
// logs, and the state after its last step) and the timeline of every step, map item and
// parallel branch as a lane. Reads what run_events.js folded; draws with textContent only.
"use strict";

const wfeDetail = (() => {
  const { $, element, timeTag, formatDuration, statusBadge, json, moment } = wfePage;
  const { itemSummary, formatError } = wfeRunEvents;
  const MOST_LANES = 200;
  const NO_STEP = { pending: "Not run yet.", running: "Running: its step is stored when it finishes.",
    retrying: "Retrying: its step is stored when it finishes." };

  const ownsName = (node, name) =>
    name === node || name.startsWith(node + "[") || name.startsWith(node + "/");

  // The store keeps each step's updates; the state after a step is shown for the run's last
  // step only (the run's state), because reducers (append, merge, tools) make a replay of
  // updates in the browser differ from what the engine stored.
  function stepArticle(view, step, isLast) {
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
    article.append(element("h5", "Updates"), json(step.updates || {}));
    if (isLast && view.run && view.run.status !== "running") {
      article.append(element("h5", "State after (the run's state)"), json(view.run.state || {}));
    }
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
    const key = [node, steps.length, view.logs.length, row ? row.status : "",
      view.run ? view.run.status : "", wantedStep].join("|");
    if (panel.dataset.key === key && !panel.hidden) return;
    panel.dataset.key = key;
    const heading = element("h3", "Node " + node + " ");
    heading.id = "step-heading";
    heading.append(statusBadge(row ? row.status : "pending"));
    const close = element("button", "Close");
    close.type = "button";
    close.dataset.action = "close-panel";
    const parts = [heading, close];
    const lastStep = view.run && view.run.steps && view.run.steps.at(-1);
    for (const step of steps) {
      const article = stepArticle(view, step, step === lastStep);
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
