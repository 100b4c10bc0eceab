// A run's nodes folded from its events (SPEC section 3: node_started, node_finished, ...) and a
// reader of Server-Sent Events. No DOM here: page.js draws what this computes. A "view" is any
// object with `nodes` (a Map from node name to row, in display order) and `status`.
"use strict";

const wfeRunEvents = (() => {
  function formatError(error) {
    if (!error) return "unknown error";
    const kind = String(error.type || "Error");
    return error.message ? kind + ": " + String(error.message) : kind;
  }

  function newNode(name) {
    return { name, status: "pending", attempts: 0, durationMs: null, error: "", items: null };
  }

  // A `parent/child` row (a branch, a subgraph's node) goes after its parent's family of rows.
  function nodeRow(view, name) {
    let found = view.nodes.get(name);
    if (found) return found;
    found = newNode(name);
    const parent = name.includes("/") ? name.slice(0, name.lastIndexOf("/")) : "";
    if (!parent || !view.nodes.has(parent)) {
      view.nodes.set(name, found);
      return found;
    }
    const entries = [...view.nodes.entries()];
    let at = entries.findIndex(([key]) => key === parent) + 1;
    while (at < entries.length && entries[at][0].startsWith(parent + "/")) at += 1;
    entries.splice(at, 0, [name, found]);
    view.nodes = new Map(entries);
    return found;
  }

  // `each[3]` is item 3 of map node `each`; `each[3]/child` a node inside it.
  function splitItem(name) {
    const match = /^([^[]+)\[(\d+)\](.*)$/.exec(name);
    return match ? { node: match[1], index: Number(match[2]), itself: match[3] === "" } : null;
  }

  const ITEM_STATES = { node_started: "running", node_finished: "done", node_failed: "failed" };

  function countItem(view, kind, item) {
    const owner = nodeRow(view, item.node);
    if (!owner.items) owner.items = new Map();
    if (item.itself) owner.items.set(item.index, ITEM_STATES[kind]);
    else if (!owner.items.has(item.index)) owner.items.set(item.index, "running");
  }

  const HANDLERS = {
    run_started(view) { view.status = "running"; },
    node_started(view, event) {
      const node = nodeRow(view, String(event.node));
      node.attempts = Number(event.attempt || 1);
      if (node.attempts === 1) { node.error = ""; node.items = null; }
      node.status = node.attempts === 1 ? "running" : "retrying";
      node.startedAt = Date.parse(event.ts);
    },
    node_finished(view, event) {
      const node = nodeRow(view, String(event.node));
      node.status = "done";
      node.durationMs = Number(event.duration_ms || 0);
    },
    node_failed(view, event) {
      const node = nodeRow(view, String(event.node));
      node.status = "failed";
      node.error = formatError(event.error);
    },
    node_skipped(view, event) { nodeRow(view, String(event.node)).status = "skipped"; },
    run_waiting(view, event) { nodeRow(view, String(event.node)).status = "waiting"; },
    run_finished(view, event) {
      view.status = String(event.status || "finished");
      for (const node of view.nodes.values()) {
        if (node.status === "running" || node.status === "retrying") {
          node.status = view.status === "failed" ? "failed" : "stopped";
        }
      }
      for (const spans of (view.spans || new Map()).values()) {
        const open = spans.at(-1);
        if (open && open.end === null) { open.end = Date.parse(event.ts); open.status = "stopped"; }
      }
    },
  };

  // Each node's, item's and branch's time spans (the timeline's bars), log lines and the
  // edges taken: what the step panel, timeline and graph show besides the rows.
  function recordSpan(view, kind, event) {
    if (!view.spans) return;
    const name = String(event.node);
    const at = Date.parse(event.ts);
    if (Number.isNaN(at)) return;
    if (!view.spans.has(name)) view.spans.set(name, []);
    const spans = view.spans.get(name);
    const open = spans.at(-1);
    if (kind === "node_started") {
      if (open && open.end === null) open.end = at;
      spans.push({ start: at, end: null, status: "running" });
    } else if (open && open.end === null) {
      open.end = at;
      open.status = kind === "node_finished" ? "done" : "failed";
    }
  }

  const TRACKED = {
    log(view, event) {
      if (view.logs) view.logs.push({ node: String(event.node), message: event.message, ts: event.ts });
    },
    edge(view, event) {
      if (view.edges) view.edges.add(String(event.from) + "\u0000" + String(event.to));
    },
  };

  function applyEvent(view, event) {
    const kind = String(event.event || "");
    if (kind in ITEM_STATES) recordSpan(view, kind, event);
    if (TRACKED[kind]) TRACKED[kind](view, event);
    const item = kind in ITEM_STATES ? splitItem(String(event.node)) : null;
    if (item) countItem(view, kind, item);
    else if (HANDLERS[kind]) HANDLERS[kind](view, event);
  }

  function itemSummary(items) {
    if (!items) return "";
    const counts = new Map();
    for (const state of items.values()) counts.set(state, (counts.get(state) || 0) + 1);
    return [...counts.entries()].sort().map(([state, n]) => n + " " + state).join(" · ");
  }

  // A Server-Sent Events reader for a fetch response: fetch can send the token as a header, and
  // it does not reconnect on its own the way EventSource does after the last event.

  async function readEvents(response, onMessage) {
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    let message = { id: null, data: [] };
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      // A trailing "\r" may be half of "\r\n": keep it for the next chunk.
      const end = buffer.endsWith("\r") ? buffer.length - 1 : buffer.length;
      const lines = buffer.slice(0, end).split(/\r\n|\r|\n/);
      buffer = lines.pop() + buffer.slice(end);
      for (const line of lines) {
        if (line === "") {
          if (message.data.length) onMessage(message.id, message.data.join("\n"));
          message = { id: null, data: [] };
        } else if (!line.startsWith(":")) {
          const colon = line.indexOf(":");
          const field = colon < 0 ? line : line.slice(0, colon);
          const text = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
          if (field === "data") message.data.push(text);
          else if (field === "id") message.id = text;
        }
      }
    }
  }

  return { nodeRow, applyEvent, itemSummary, readEvents, formatError };
})();
