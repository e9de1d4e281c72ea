// The operator's page: live counters, the network map, alerts, orders, machines, and the
// log's latest cosigned checkpoint.
import { api, el, start, render, section, table, when } from "./common.js";
import { drawMap } from "./map.js";

const canvas = el("canvas", {
  id: "map",
  role: "img",
  "aria-label": "Map of producers (dots: green busy, grey idle), destinations (red squares), flows and couriers' legs",
});

const COUNTERS = [
  ["units_ordered", "ordered"],
  ["units_planned", "planned"],
  ["units_printing", "printing"],
  ["units_made", "made"],
  ["units_shipped", "shipped"],
  ["units_delivered", "delivered"],
];

const legend = el("p", { class: "legend" }, "Loading the network…");
const network = section("Network", "network", canvas, legend);
let first = true;

async function drawNetwork() {
  const map = await api("/overview/map");
  legend.textContent = `${map.producers.length} producers, ${map.destinations.length} destinations, ${map.flows.length} flows, ${map.legs.length} parcels on the way`;
  await drawMap(canvas, map);
  canvas.dataset.drawnMs = String(Math.round(performance.now())); // benchmarks/pages.py
}

async function refresh() {
  if (first) render(network); // the map draws as soon as its data is in
  first = false;
  const drawn = drawNetwork();
  // where the lists below fail first (the hub unreachable), the map's failure is not
  // left unhandled: the page says the hub cannot be reached and retries
  drawn.catch(() => {});
  const [view, orders, machines] = await Promise.all([
    api("/overview"),
    api("/orders?limit=20"),
    api("/machines?limit=20"),
  ]);
  let checkpoint = "";
  try {
    checkpoint = await api("/ledger/checkpoint");
  } catch (err) {
    checkpoint = `no checkpoint yet (${err.message})`;
  }
  const c = view.counters;
  const onTime = c.on_time_ratio === null ? "–" : `${(c.on_time_ratio * 100).toFixed(1)}%`;
  render(
    section(
      "Units",
      "counters",
      el(
        "dl",
        { class: "counters" },
        COUNTERS.map(([key, label]) =>
          el("div", { "data-counter": key }, el("dt", {}, label), el("dd", {}, c[key])),
        ),
        el("div", { "data-counter": "on_time" }, el("dt", {}, "on time"), el("dd", {}, onTime)),
      ),
      el("p", { class: "muted" }, `${c.orders_open} open orders, ${c.machines_busy} of ${c.machines} machines busy`),
    ),
    network,
    section(
      "Alerts",
      "alerts",
      view.alerts.length
        ? el("ul", {}, view.alerts.map((a) => el("li", { class: `alert ${a.kind}` }, a.text)))
        : el("p", { class: "muted" }, "No alerts."),
    ),
    section(
      "Orders",
      "orders",
      table(
        "Latest orders",
        ["order", "state", "units", "made", "placed"],
        orders.items.map((o) => [o.reference || o.id, o.state, o.quantity, o.units_made, when(o.placed_at)]),
      ),
    ),
    section(
      "Machines",
      "machines",
      table(
        "Machines",
        ["machine", "status", "materials", "flag"],
        machines.items.map((m) => [m.name, m.status, m.materials.join(", "), m.capacity_flag || ""]),
      ),
    ),
    section("Transparency log", "checkpoint", el("pre", { class: "checkpoint" }, checkpoint)),
  );
  await drawn;
}

start(refresh);
