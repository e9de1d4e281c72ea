// A consumer's page: each order line by line, its parcels with where they are, when they
// arrive and the code to give the courier; the provenance bundle to download.
import { api, el, start, render, section, table, when } from "./common.js";

async function download(orderId, button) {
  button.disabled = true;
  try {
    const bundle = await api(`/orders/${encodeURIComponent(orderId)}/provenance`);
    const blob = new Blob([JSON.stringify(bundle, null, 2)], { type: "application/json" });
    const link = el("a", { href: URL.createObjectURL(blob), download: `provenance-${orderId}.json` });
    link.click();
    URL.revokeObjectURL(link.href);
  } catch (err) {
    button.after(el("p", { class: "error", role: "alert" }, err.message));
  } finally {
    button.disabled = false;
  }
}

async function order(o) {
  const parcels = await api(`/orders/${encodeURIComponent(o.id)}/shipments`);
  const button = el("button", { type: "button", class: "quiet" }, "Download provenance");
  button.addEventListener("click", () => download(o.id, button));
  return section(
    `Order ${o.reference || o.id}`,
    `order-${o.id}`,
    el("p", {}, `${o.state} · ${o.units_made} of ${o.quantity} made · placed ${when(o.placed_at)}`),
    table(
      "Lines",
      ["material", "quantity", "made", "deadline"],
      o.lines.map((l) => [l.material, l.quantity, l.units_made, when(l.deadline)]),
    ),
    table(
      "Parcels",
      ["parcel", "state", "units", "mode", "arrives", "code"],
      parcels.map((p) => [p.id, p.state, p.units, p.mode || "–", when(p.delivered_at || p.eta), p.proof_code || ""]),
    ),
    button,
  );
}

async function refresh() {
  const orders = await api("/orders?limit=20");
  const sections = await Promise.all(orders.items.map(order));
  render(...(sections.length ? sections : [section("Orders", "orders", el("p", { class: "muted" }, "No orders yet."))]));
}

start(refresh);
