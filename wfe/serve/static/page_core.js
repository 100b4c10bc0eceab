// What every part of wfe's page shares: the token, requests to the JSON API, and the small
// formatters that must read the same as the server-rendered page. Values from the server are
// user data: they reach the page through textContent only.
"use strict";

const wfePage = (() => {
  const root = document.body.dataset.root || "/";
  const TOKEN_KEY = "wfe-token";
  const $ = (selector) => document.querySelector(selector);

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

  function headers(accept, extra) {
    const result = { Accept: accept, ...(extra || {}) };
    if (token) result.Authorization = "Bearer " + token;
    return result;
  }

  async function answerOf(response) {
    const answer = await response.json().catch(() => null);
    if (!response.ok) {
      throw new Error(answer && typeof answer.detail === "string"
        ? response.status + ": " + answer.detail : "HTTP " + response.status);
    }
    return answer;
  }

  async function getJson(path) {
    return answerOf(await fetch(root + path,
      { headers: headers("application/json"), cache: "no-store" }));
  }

  // The API takes JSON bodies only (a form post would be refused with 415).
  async function postJson(path, body) {
    return answerOf(await fetch(root + path, {
      method: "POST", cache: "no-store", body: JSON.stringify(body),
      headers: headers("application/json", { "Content-Type": "application/json" }),
    }));
  }

  const segment = (value) => encodeURIComponent(String(value));
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  function setNotice(text) {
    $("#notice").textContent = text;
  }

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

  const pad = (n) => String(n).padStart(2, "0");

  function localText(ms) {
    const d = new Date(ms);
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " +
      pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
  }

  // A time in the reader's own zone; UTC on hover.
  function timeTag(text) {
    const ms = moment(text);
    if (ms === null) return document.createTextNode("-");
    const tag = element("time", localText(ms));
    tag.dateTime = text;
    tag.title = new Date(ms).toISOString().slice(0, 19).replace("T", " ") + " UTC";
    return tag;
  }

  function localiseTimes(scope) {
    for (const tag of scope.querySelectorAll("time[datetime]")) {
      const ms = moment(tag.dateTime);
      if (ms !== null) tag.textContent = localText(ms);
    }
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

  // A finished run's duration; a running one's so far (the page ticks it every second).
  function runDuration(run) {
    const started = moment(run.created_at);
    const finished = run.status === "running" ? Date.now() : moment(run.finished_at);
    if (started === null || finished === null) return "-";
    return formatDuration(Math.max(0, finished - started));
  }

  function statusBadge(status) {
    const badge = element("span", status || "unknown", "status");
    badge.dataset.status = String(status || "unknown");
    return badge;
  }

  // Set a cell's content only when it changed, so focus and selection inside it survive.
  function fill(cell, content) {
    const text = content instanceof Node ? content.textContent : String(content);
    const status = content instanceof Node && content.dataset ? content.dataset.status : undefined;
    const old = cell.firstChild;
    if (cell.childNodes.length === 1 && old.textContent === text &&
        (old.dataset ? old.dataset.status : undefined) === status) return;
    cell.replaceChildren(content);
  }

  function labelledRow(labels, key, keyName) {
    const tr = document.createElement("tr");
    tr.dataset[keyName] = key;
    for (const label of labels) {
      const td = document.createElement("td");
      td.dataset.label = label;
      if (label === "Error") td.className = "error";
      tr.append(td);
    }
    return tr;
  }

  function json(value) {
    return element("pre", JSON.stringify(value, null, 2), "json");
  }

  return { root, token, $, headers, getJson, postJson, segment, sleep, setNotice, element,
    moment, timeTag, localiseTimes, formatDuration, runDuration, statusBadge, fill,
    labelledRow, json };
})();
