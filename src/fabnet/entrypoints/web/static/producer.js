// A maker's page: job offers to accept or decline, jobs under way, each machine's live
// state (temperatures, progress) with the bed-clear confirmation, and what was earned.
import { api, el, start, render, section, showError, table, when } from "./common.js";

function offer(job) {
  const form = el("form", { id: `offer-${job.id}`, class: "offer" });
  const accept = el("button", { type: "submit" }, "Accept");
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

async function liveState(machine) {
  try {
    return await api(`/machines/${encodeURIComponent(machine.id)}/live`);
  } catch (err) {
    return null; // no telemetry heard yet
  }
}

function machineCard(machine, state) {
  const form = el("form", { id: `bed-${machine.id}`, class: "bed" });
  form.append(el("button", { type: "submit", class: "quiet" }, `Bed of ${machine.name} is clear`));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api(`/machines/${encodeURIComponent(machine.id)}/commands`, { method: "POST", body: { type: "bed_clear" } });
      form.replaceChildren(el("p", { role: "status" }, "Sent: the next print may start."));
    } catch (err) {
      showError(form, err);
    }
  });
  const temps = state
    ? Object.entries(state.temps).map(([name, [now, target]]) => `${name} ${now.toFixed(0)}/${target.toFixed(0)} °C`).join(", ")
    : "";
  const progress = state && state.progress !== null ? ` · ${(state.progress * 100).toFixed(0)}%` : "";
  return el(
    "li",
    { class: "machine" },
    el("p", {}, el("strong", {}, machine.name), ` · ${machine.status}`, state ? ` · ${state.state}${progress}` : " · no telemetry yet"),
    temps ? el("p", { class: "muted" }, temps) : null,
    form,
  );
}

async function earnings(jobs) {
  const orders = [...new Set(jobs.filter((j) => j.units_made > 0).map((j) => j.order_id))];
  let paid = 0;
  let delivered = 0;
  for (const id of orders) {
    try {
      const escrow = await api(`/orders/${encodeURIComponent(id)}/escrow`);
      paid += escrow.paid || 0;
      delivered += escrow.delivered || 0;
    } catch (err) {
      // an order without an escrow pays outside fabnet
    }
  }
  return { paid, delivered };
}

let shown = "";

async function refresh() {
  const [offered, jobs, machines] = await Promise.all([
    api("/jobs?state=offered&limit=50"),
    api("/jobs?limit=100"),
    api("/machines?limit=50"),
  ]);
  const states = await Promise.all(machines.items.map(liveState));
  const money = await earnings(jobs.items);
  const now = JSON.stringify([offered, jobs, machines, states, money]);
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
      machines.items.length
        ? el("ul", { class: "machines" }, machines.items.map((m, i) => machineCard(m, states[i])))
        : el("p", { class: "muted" }, "No machines."),
    ),
    section(
      "Earnings",
      "earnings",
      el("p", {}, `${(money.paid / 100).toFixed(2)} paid out by escrow for ${money.delivered} units delivered`),
    ),
  );
}

start(refresh);
