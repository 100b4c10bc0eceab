// The page acts through the API: a run form per workflow built from its state schema, and on
// a run Cancel, Resume (a waiting run's form built from what it `expects`), "Re-run from
// node" and, on a step of the step panel, "Fork from here", each with edits of the state. Empty fields are left out, so defaults and the stored state
// stand; the API checks every value and its one-line answer is shown beside the form.
"use strict";

const wfeActions = (() => {
  const { $, element, getJson, postJson, segment } = wfePage;

  // `int | None` is asked for as an int that may be left empty.
  const bareType = (text) => String(text || "any").split("|").map((t) => t.trim())
    .filter((t) => t !== "None").join(" | ");

  function input(key, type, options) {
    const bare = bareType(type);
    const label = element("label");
    let field;
    if (bare === "bool") {
      label.className = "check";
      field = element("input");
      field.type = "checkbox";
      field.checked = options.default === true;
    } else if (bare === "int" || bare === "float" || bare === "str") {
      field = element("input");
      field.type = options.secret ? "password" : bare === "str" ? "text" : "number";
      if (bare === "float") field.step = "any";
    } else {
      field = element("textarea");
      field.dataset.json = "true";
    }
    if (bare !== "bool" && options.placeholder !== undefined) {
      field.placeholder = typeof options.placeholder === "string"
        ? options.placeholder : JSON.stringify(options.placeholder);
    }
    field.name = key;
    field.dataset.type = bare;
    field.required = Boolean(options.required) && bare !== "bool";
    const caption = element("span", key + (options.required ? " *" : ""));
    const kind = element("span", " " + String(type) +
      (options.description ? " · " + options.description : ""), "type");
    if (bare === "bool") label.append(field, caption, kind);
    else label.append(caption, kind, field);
    return label;
  }

  // The values the user gave; a checkbox counts when it differs from where it started.
  function values(form) {
    const given = {};
    for (const field of form.querySelectorAll("[name]")) {
      if (field.name === "node") continue;
      if (field.type === "checkbox") {
        if (field.checked !== field.defaultChecked) given[field.name] = field.checked;
      } else if (field.value.trim() !== "") {
        given[field.name] = readValue(field);
      }
    }
    return given;
  }

  function readValue(field) {
    if (field.type === "number") return Number(field.value);
    if (!field.dataset.json) return field.value;
    try {
      return JSON.parse(field.value);
    } catch (error) {
      throw new Error(field.name + ": not JSON (" + error.message + ")");
    }
  }

  function actionForm(title, fields, submitText, send) {
    const form = element("form", undefined, "act");
    form.append(element("strong", title), ...fields);
    const problem = element("p", "", "problem");
    problem.setAttribute("role", "alert");
    const submit = element("button", submitText, "primary");
    submit.type = "submit";
    form.append(submit, problem);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      submit.disabled = true;
      problem.textContent = "";
      try {
        await send(values(form), form);
      } catch (error) {
        problem.textContent = error.message;
      } finally {
        submit.disabled = false;
      }
    });
    return form;
  }

  // --- workflows: a run form each -------------------------------------------------------------

  async function openRunForm(item, name, onStarted) {
    const existing = item.querySelector("form");
    if (existing) { existing.remove(); return; }
    let workflow;
    try {
      workflow = await getJson("workflows/" + segment(name));
    } catch (error) {
      item.append(element("p", "The workflow could not be loaded: " + error.message, "problem"));
      return;
    }
    const fields = (workflow.state || []).map((key) => input(key.key, key.type, {
      required: key.required, secret: key.secret, description: key.description,
      default: key.default, placeholder: key.has_default ? key.default : undefined }));
    const form = actionForm("Start " + name, fields, "Start run", async (inputs) => {
      const answer = await postJson("runs", { workflow: name, inputs });
      form.remove();
      onStarted(answer.run_id);
    });
    item.append(form);
    const first = form.querySelector("[name]");
    if (first) first.focus();
  }

  function decorateWorkflows(onStarted) {
    for (const item of document.querySelectorAll("#workflows li[data-workflow]")) {
      if (item.querySelector("button")) continue;
      const button = element("button", "Run…");
      button.type = "button";
      button.dataset.action = "run-form";
      button.addEventListener("click", () => openRunForm(item, item.dataset.workflow, onStarted));
      item.prepend(button, " ");
    }
  }

  // --- one run: cancel, resume, re-run from a node ----------------------------------------------

  function button(text, onClick) {
    const made = element("button", text);
    made.type = "button";
    made.addEventListener("click", async () => {
      made.disabled = true;
      try { await onClick(); } catch (error) { wfePage.setNotice(error.message); }
      made.disabled = false;
    });
    return made;
  }

  function resumeForm(view, onResumed) {
    const waiting = view.run.waiting || {};
    const expects = waiting.expects || {};
    const fields = Object.entries(expects).map(([key, type]) => input(key, type, {}));
    const title = view.run.status === "waiting"
      ? "Resume: " + String(waiting.message || "the run waits") : "Resume from the last step";
    return actionForm(title, fields, "Resume", async (inputs) => {
      await postJson("runs/" + segment(view.runId) + "/resume", { inputs });
      onResumed(view.runId);
    });
  }

  function rerunForm(view, onStarted) {
    const select = element("select");
    select.name = "node";
    for (const name of view.nodes.keys()) {
      if (!name.includes("/") && !name.includes("[")) select.append(element("option", name));
    }
    if (view.panelNode && view.nodes.has(view.panelNode)) select.value = view.panelNode;
    const pick = element("label");
    pick.append(element("span", "From node"), select);
    const state = view.run.state || {};
    const fields = ((view.workflow && view.workflow.state) || []).map((key) =>
      input(key.key, key.type, { secret: key.secret, description: key.description,
        placeholder: key.secret ? undefined : state[key.key] }));
    const form = actionForm("Re-run from a node (a new run; empty fields keep the state it had there)",
      [pick, ...fields], "Re-run", async (inputs) => {
        const answer = await postJson("runs/" + segment(view.runId) + "/rerun",
          { node: select.value, inputs });
        onStarted(answer.run_id);
      });
    form.id = "rerun-form";
    return form;
  }

  // `wfe fork RUN --at STEP -i ...`: edits per key, or all at once as a JSON object.
  function forkForm(view, step, stateAfter, onStarted) {
    const fields = ((view.workflow && view.workflow.state) || []).map((key) =>
      input(key.key, key.type, { secret: key.secret, description: key.description,
        placeholder: key.secret ? undefined : stateAfter[key.key] }));
    const edits = element("textarea");
    edits.placeholder = '{"key": "new value"}';
    const asJson = element("label");
    asJson.append(element("span", "Or edits as one JSON object"), edits);
    const form = actionForm("Fork from step " + step + " (a new run; empty fields keep the " +
      "state after it)", [...fields, asJson], "Fork", async (inputs) => {
      const answer = await postJson("runs/" + segment(view.runId) + "/fork",
        { at: step, inputs: { ...inputs, ...jsonEdits(edits.value) } });
      onStarted(answer.run_id);
    });
    form.classList.add("fork");
    return form;
  }

  function jsonEdits(text) {
    if (!text.trim()) return {};
    let edits;
    try {
      edits = JSON.parse(text);
    } catch (error) {
      throw new Error("edits: not JSON (" + error.message + ")");
    }
    if (!edits || typeof edits !== "object" || Array.isArray(edits)) {
      throw new Error("edits: a JSON object of state keys, as {\"key\": value}");
    }
    return edits;
  }

  const RESUMABLE = new Set(["waiting", "interrupted", "failed"]);

  // Redrawn only when the run's status changes, so what is typed into a form stays.
  function renderActions(view, handlers) {
    const box = $("#run-actions");
    const status = view.run ? view.run.status : "";
    if (box.dataset.key === view.runId + "|" + status) return;
    box.dataset.key = view.runId + "|" + status;
    const parts = [];
    if (status === "running") {
      parts.push(button("Cancel", async () => {
        await postJson("runs/" + segment(view.runId) + "/cancel", {});
        handlers.refresh(view);
      }));
    }
    if (RESUMABLE.has(status)) parts.push(resumeForm(view, handlers.refresh.bind(null, view)));
    if (status && status !== "running" && view.nodes.size) {
      const details = element("details");
      details.append(element("summary", "Re-run from a node…"), rerunForm(view, handlers.started));
      parts.push(details);
    }
    box.replaceChildren(...parts);
  }

  return { decorateWorkflows, renderActions, forkForm };
})();
