// The shared-dashboard app, served by the DMS through the dataminer.services tunnel. It asks
// the DMS for the dashboard's definition, then calls each of its Web Services methods itself,
// as the share's connection (the Cloud Gateway attaches the session; the page never sees it),
// and renders what came back. Every value is set as text, never as markup.
"use strict";

const HEARTBEAT_MS = 5000;

function plain(value) {
  return typeof value === "string" ? value : JSON.stringify(value);
}

// The lines a person reads of one answer: an element's name, a parameter's value, an alarm.
function readable(answer) {
  if (Array.isArray(answer)) {
    return answer.flatMap(readable);
  }
  if (answer !== null && typeof answer === "object") {
    const text = (name) => (name in answer ? plain(answer[name]) : undefined);
    if (text("Severity") !== undefined && text("Value") !== undefined) {
      return ["Alarm (" + text("Severity") + "): " + text("Value")];
    }
    if (text("Name") !== undefined && text("Value") !== undefined) {
      return [(text("Name") + ": " + text("Value") + " " + (text("Unit") || "")).trim()];
    }
    if (text("Name") !== undefined) {
      return [text("Name")];
    }
    return [JSON.stringify(answer)];
  }
  return [plain(answer)];
}

async function call(method, parameters) {
  const answer = await fetch("API/v1/Json.asmx/" + encodeURIComponent(method), {
    method: "POST",
    credentials: "omit",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(parameters),
  });
  if (answer.status === 410) {
    throw new Ended();
  }
  const json = await answer.json().catch(() => null);
  if (!answer.ok || json === null || !("d" in json)) {
    const why = json && (json.Message || json.error);
    throw new Error("HTTP " + answer.status + (why ? ": " + why : ""));
  }
  return json.d;
}

class Ended extends Error {}

function element(tag, text, id) {
  const node = document.createElement(tag);
  if (text !== undefined) {
    node.textContent = text;
  }
  if (id !== undefined) {
    node.id = id;
  }
  return node;
}

async function refresh(definition) {
  const sections = [];
  for (const component of definition.components) {
    const section = element("section");
    section.className = "component " + component.type;
    section.appendChild(element("h2", component.title));
    const list = element("ul");
    for (const c of component.calls) {
      try {
        for (const line of readable(await call(c.method, c.parameters))) {
          list.appendChild(element("li", line));
        }
      } catch (e) {
        if (e instanceof Ended) {
          throw e;
        }
        list.appendChild(element("li", c.method + " failed: " + e.message));
      }
    }
    section.appendChild(list);
    sections.push(section);
  }
  document.getElementById("components").replaceChildren(...sections);
  document.getElementById("state").textContent =
    "live, refreshed at " + new Date().toISOString();
}

async function run() {
  const state = document.getElementById("state");
  const answer = await fetch("definition", { credentials: "omit" });
  if (!answer.ok) {
    state.textContent =
      answer.status === 410 ? "This share has ended." : "Not available (HTTP " + answer.status + ").";
    return;
  }
  const definition = await answer.json();
  document.getElementById("title").textContent = definition.title;
  document.title = definition.title;
  const beat = async () => {
    try {
      await refresh(definition);
      setTimeout(beat, HEARTBEAT_MS);
    } catch (e) {
      state.textContent =
        e instanceof Ended ? "This share has ended." : "Refresh failed: " + e.message;
      if (!(e instanceof Ended)) {
        setTimeout(beat, HEARTBEAT_MS);
      }
    }
  };
  await beat();
}

run();
