// A maker's page: job offers to accept or decline, jobs under way, machines.
import { api, el, live, render, section, showError, table, when } from "./common.js";

function offer(job) {
  const form = el("form", { id: `offer-${job.id}`, class: "offer" });
  const accept = el("button", { type: "submit", name: "accept" }, "Accept");
  const decline = el("button", { type: "button", class: "quiet" }, "Decline");
  form.append(
    el("p", {}, el("strong", {}, `${job.units} × ${job.material}`), ` · due ${when(job.due)} · offer ends ${when(job.expires_at)}`),
    accept,
    decline,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api(`/jobs/${encodeURIComponent(job.id)}/accept`, { method: "POST", body: { terms_digest: job.terms_digest || "" } });
      await refresh();
    } catch (err) {
      showError(form, err);
    }
  });
  decline.addEventListener("click", async () => {
    try {
      await api(`/jobs/${encodeURIComponent(job.id)}/decline`, { method: "POST", body: { kind: "too_busy" } });
      await refresh();
    } catch (err) {
      showError(form, err);
    }
  });
  return el("li", {}, form);
}

let shown = "";

async function refresh() {
  const [offered, jobs, machines] = await Promise.all([
    api("/jobs?state=offered&limit=50"),
    api("/jobs?limit=50"),
    api("/machines?limit=50"),
  ]);
  const now = JSON.stringify([offered, jobs, machines]);
  if (now === shown) return;
  shown = now;
  const going = jobs.items.filter((j) => j.state !== "offered");
  render(
    section(
      "Offers",
      "offers",
      offered.items.length ? el("ul", { class: "offers" }, offered.items.map(offer)) : el("p", { class: "muted" }, "No offers right now."),
    ),
    section(
      "Jobs",
      "jobs",
      table("My jobs", ["job", "state", "units", "made", "due"], going.map((j) => [j.id, j.state, j.units, j.units_made, when(j.due)])),
    ),
    section(
      "Machines",
      "machines",
      table("My machines", ["machine", "status", "materials"], machines.items.map((m) => [m.name, m.status, m.materials.join(", ")])),
    ),
  );
}

refresh();
live(refresh);
