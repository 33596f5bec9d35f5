// xlr-runtime dashboard: live updates only. Every page is complete without this script; it reads the JSON API
// (the same session cookie authorises its reads) and changes the page in place.
"use strict";

function setStatus(root, status, line) {
  const badge = root.querySelector('[data-field="status"]');
  if (badge && status) {
    badge.textContent = status;
    badge.className = "status s-" + status;
  }
  const text = root.querySelector('[data-field="status_line"]');
  if (text && line !== undefined) text.textContent = line || "";
}

// The task list: every 2 s, the status and status line of each task shown (the page's own query is the API's).
function liveTasks(table) {
  const refresh = async () => {
    try {
      const response = await fetch("/api/v1/tasks" + location.search, { headers: { Accept: "application/json" } });
      if (!response.ok) return;
      const page = await response.json();
      for (const task of page.tasks) {
        const row = table.querySelector('tr[data-task="' + task.id + '"]');
        if (row) setStatus(row, task.status, task.status_line);
      }
    } catch (error) { /* the server may be restarting: try again later */ }
  };
  setInterval(refresh, 2000);
}

// A task: its log and status live, through the log's server-sent events; the page reloads once the task ends.
function liveTask(bar) {
  const log = document.getElementById("log");
  const url = "/api/v1/tasks/" + bar.dataset.liveTask + "/log?follow=true&after=" + bar.dataset.after;
  const source = new EventSource(url);
  source.addEventListener("line", (event) => {
    const line = JSON.parse(event.data);
    const when = new Date(line.time * 1000).toISOString().replace("T", " ").slice(0, 19);
    const mark = { stderr: "!", system: "*" }[line.stream] || " ";
    log.append(when + " " + mark + " " + line.text + "\n");
    log.scrollTop = log.scrollHeight;
  });
  source.addEventListener("status", (event) => {
    const state = JSON.parse(event.data);
    setStatus(bar, state.status, state.status_line);
  });
  source.addEventListener("end", (event) => {
    source.close();
    if (JSON.parse(event.data).status !== bar.dataset.status) location.reload();
  });
}

// An execution: its output by node, polled from Rundeck's output API every second until it has completed.
function liveExecution(bar) {
  const output = document.getElementById("output");
  let offset = bar.dataset.after;
  const section = (node) => {
    let found = Array.from(output.querySelectorAll("section.node")).find((s) => s.dataset.node === node);
    if (!found) {
      const empty = output.querySelector(".empty");
      if (empty) empty.remove();
      found = document.createElement("section");
      found.className = "node";
      found.dataset.node = node;
      found.innerHTML = '<h3></h3><div class="scroll"><table class="output"><tbody></tbody></table></div>';
      found.querySelector("h3").textContent = node || "workflow";
      output.append(found);
    }
    return found.querySelector("tbody");
  };
  const poll = async () => {
    try {
      const response = await fetch("/api/47/execution/" + bar.dataset.liveExecution + "/output?offset=" + offset,
                                   { headers: { Accept: "application/json" } });
      if (response.ok) {
        const answer = await response.json();
        for (const entry of answer.entries) {
          const row = document.createElement("tr");
          row.className = "l-" + entry.level.toLowerCase();
          const step = document.createElement("td");
          step.className = "step";
          step.textContent = entry.stepctx;
          const text = document.createElement("td");
          const pre = document.createElement("pre");
          pre.textContent = entry.log;
          text.append(pre);
          row.append(step, text);
          section(entry.node).append(row);
        }
        offset = answer.offset;
        setStatus(bar, answer.execState);
        if (answer.completed) {
          if (bar.dataset.ended !== "true") location.reload();
          return;
        }
      }
    } catch (error) { /* try again */ }
    setTimeout(poll, 1000);
  };
  if (bar.dataset.ended !== "true") poll();
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("[data-live-tasks]").forEach(liveTasks);
  document.querySelectorAll("[data-live-task]").forEach(liveTask);
  document.querySelectorAll("[data-live-execution]").forEach(liveExecution);
});
