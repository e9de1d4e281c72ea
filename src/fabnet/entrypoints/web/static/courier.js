// A courier's page: today's stops in order; confirm each pickup, drop at the hub, and
// delivery with the consignee's code.
import { api, el, start, render, section, showError, when, who } from "./common.js";
import { drawMap } from "./map.js";

const canvas = el("canvas", {
  id: "map",
  class: "route-map",
  role: "img",
  "aria-label": "Map of the route: pickups as dots, deliveries as squares, the way as a dashed line",
});

function drawRoute(route) {
  const points = [[route.base.lat, route.base.lon], ...route.stops.map((s) => [s.lat, s.lon])];
  const legs = points.slice(1).map((p, i) => [...points[i], ...p, route.mode]);
  return drawMap(canvas, {
    producers: route.stops.filter((s) => s.action === "pickup").map((s) => [s.lat, s.lon, 1, 1]),
    destinations: route.stops.filter((s) => s.action !== "pickup").map((s) => [s.lat, s.lon, s.units]),
    flows: [],
    legs,
  }, { minPad: 0.05 });
}

const LABEL = { pickup: "Pick up", drop_at_hub: "Drop at the hub", deliver: "Deliver" };
const KIND = { pickup: "picked_up", drop_at_hub: "at_hub", deliver: "delivered" };

function stopForm(stop) {
  if (stop.action !== "pickup" && stop.state === "planned") {
    return el("p", { class: "muted" }, "After its pickup.");
  }
  const id = `stop-${stop.shipment_id}-${stop.action}`; // stable across refreshes
  const form = el("form", { id, class: "stop", "data-shipment": stop.shipment_id, "data-action": stop.action });
  if (stop.action === "deliver") {
    form.append(
      el("label", { for: `${id}-code` }, "Consignee's code"),
      el("input", { id: `${id}-code`, name: "proof", inputmode: "numeric", autocomplete: "one-time-code", required: true, maxlength: 12 }),
    );
  }
  form.append(el("button", { type: "submit" }, LABEL[stop.action]));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { kind: KIND[stop.action] };
    if (stop.action === "deliver") body.proof = form.elements.proof.value.trim();
    try {
      await api(`/shipments/${encodeURIComponent(stop.shipment_id)}/events`, { method: "POST", body });
      await refresh();
    } catch (err) {
      showError(form, err);
    }
  });
  return form;
}

let shown = "";

async function refresh() {
  const route = await api(`/couriers/${encodeURIComponent(who)}/route`);
  const now = JSON.stringify(route);
  if (now === shown) return; // nothing moved: keep what the courier is typing
  shown = now;
  const stops = route.stops.map((s) =>
    el(
      "li",
      { class: "stop-item" },
      el("p", {}, el("strong", {}, LABEL[s.action]), ` · ${s.units} units, ${(s.mass_g / 1000).toFixed(1)} kg · ${when(s.eta)}`),
      el("p", { class: "muted" }, `${s.lat.toFixed(4)}, ${s.lon.toFixed(4)} · parcel ${s.shipment_id}`),
      stopForm(s),
    ),
  );
  render(
    section(
      `Route (${route.mode})`,
      "route",
      stops.length ? el("ol", { class: "stops" }, stops) : el("p", { class: "muted" }, "No stops: nothing to carry right now."),
    ),
    section("On the map", "route-on-map", canvas),
  );
  await drawRoute(route);
}

start(refresh);
