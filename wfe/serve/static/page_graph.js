// A run's graph: the workflow's Mermaid text drawn by the copy of mermaid.js that ships with
// wfe, its boxes coloured by the nodes' status and the edges the run took marked.
"use strict";

const wfeGraph = (() => {
  const body = document.body;
  const { $, headers, element } = wfePage;
  let mermaidLoading = null;
  let graphCount = 0;
  // Read while this script runs: the nonce mermaid.js's own script element must carry.
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
    const dark = matchMedia("(prefers-color-scheme: dark)").matches;
    mermaidLoading ??= appendMermaidScript(body.dataset.mermaidSrc).then(() => {
      if (!window.mermaid) throw new Error("mermaid.js did not define mermaid");
      window.mermaid.initialize({ startOnLoad: false, securityLevel: "strict",
        theme: dark ? "dark" : "neutral" });
      return window.mermaid;
    });
    return mermaidLoading;
  }

  async function showGraph(view, text, stillShown) {
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
      if (!stillShown()) return;
      figure.innerHTML = svg;
      figure.dataset.rendered = "svg";
      colourGraph(view);
    } catch (error) {
      figure.append(element("p", "Showing the Mermaid text: " + error.message, "hint"));
    }
  }

  const plainName = (name) => /^[A-Za-z0-9_]+$/.test(name);

  // Plain node names are drawn as Mermaid ids `n_NAME`: give their boxes the node's status, and
  // mark the edges the run took (`edge` events; Mermaid's edge paths end in L_FROM_TO_N).
  function colourGraph(view) {
    if ($("#graph").dataset.rendered !== "svg") return;
    for (const node of view.nodes.values()) {
      if (!plainName(node.name)) continue;
      for (const box of document.querySelectorAll('#graph g.node[id*="-n_' + node.name + '-"]')) {
        box.dataset.status = node.status;
      }
    }
    const start = view.workflow && view.workflow.graph && view.workflow.graph.start;
    const taken = [...view.edges];
    if (start && view.spans.size) taken.push("wfe_start\u0000" + start);
    for (const edge of taken) {
      const [from, to] = edge.split("\u0000").map(graphId);
      if (!plainName(from) || !plainName(to)) continue;
      const selector = '#graph path[id*="-L_' + from + "_" + to + '_"]';
      for (const path of document.querySelectorAll(selector)) path.dataset.taken = "true";
    }
  }

  const graphId = (name) => (name === "end" ? "wfe_end" : name === "wfe_start" ? name : "n_" + name);


  return { showGraph, colourGraph };
})();
