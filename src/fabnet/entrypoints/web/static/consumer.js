// A consumer's page: each order line by line, its parcels with where they are, when they
// arrive and the code to give the courier; the provenance bundle to download.
import { api, el, showError, start, render, section, table, when } from "./common.js";
import { verifyBundle } from "./verify.js";

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

const verdicts = new Map(); // order id -> what the last verification said

async function verify(orderId, out) {
  out.textContent = "Verifying…";
  try {
    const [bundle, key] = await Promise.all([
      api(`/orders/${encodeURIComponent(orderId)}/provenance`),
      api("/ledger/key"),
    ]);
    const done = await verifyBundle(bundle, key);
    verdicts.set(orderId, {
      ok: true,
      text: `Verified in this browser: ${done.entries} entries, each included in a checkpoint of ${done.sizes.join(", ")} entries signed by ${done.origin}.`,
    });
  } catch (err) {
    verdicts.set(orderId, { ok: false, text: `Not verified: ${err.message}` });
  }
  const v = verdicts.get(orderId);
  out.textContent = v.text;
  out.className = v.ok ? "verified" : "error";
}

async function order(o) {
  const parcels = await api(`/orders/${encodeURIComponent(o.id)}/shipments?limit=500`);
  const button = el("button", { type: "button", class: "quiet" }, "Download provenance");
  button.addEventListener("click", () => download(o.id, button));
  const said = verdicts.get(o.id);
  const out = el("p", { role: "status", class: said ? (said.ok ? "verified" : "error") : "" }, said ? said.text : "");
  const check = el("button", { type: "button", class: "quiet" }, "Verify provenance");
  check.addEventListener("click", () => verify(o.id, out));
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
    el("div", { class: "actions" }, button, check),
    out,
  );
}

// -- a new order: upload a design, get a quote, place the order, fund its escrow --------

const MATERIALS = ["PLA", "PETG", "ABS"];
let draft = null; // {design, material, quantity}
const newOrder = section("New order", "new-order");

function field(id, label, input) {
  return [el("label", { for: id }, label), input];
}

// the API names a line's fields lines[0].x; the form names them x
function named(err) {
  const f = (err.field || "").replace(/^lines\[0\]\./, "");
  err.field = f.startsWith("destination") ? "city" : f;
  return err;
}

function quoteForm() {
  const form = el("form", { id: "quote-form" });
  form.append(
    ...field("design-file", "Design (STL, OBJ or 3MF)", el("input", { id: "design-file", name: "file", type: "file", accept: ".stl,.obj,.3mf", required: true })),
    ...field("material", "Material", el("select", { id: "material", name: "material" }, MATERIALS.map((m) => el("option", { value: m }, m)))),
    ...field("quantity", "Quantity", el("input", { id: "quantity", name: "quantity", type: "number", min: 1, value: 100, required: true })),
    el("button", { type: "submit" }, "Get a quote"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = form.elements.file.files[0];
    const material = form.elements.material.value;
    const quantity = Number(form.elements.quantity.value);
    try {
      const upload = new FormData();
      upload.append("file", file, file.name);
      upload.append("materials", material);
      const design = await api("/designs", { method: "POST", form: upload });
      const ask = new FormData();
      ask.append("design_id", design.id);
      ask.append("material", material);
      ask.append("quantity", String(quantity));
      const quote = await api("/quotes", { method: "POST", form: ask });
      draft = { design: design.id, material, quantity, quote };
      showDraft();
    } catch (err) {
      showError(form, err);
    }
  });
  return form;
}

function money(m) {
  return m ? `${(m.amount_minor / 100).toFixed(2)} ${m.currency}` : "–";
}

function showDraft() {
  const q = draft.quote;
  const options = table(
    `Quote: ${draft.quantity} × ${draft.material}, ${(q.print_time_s / 60).toFixed(0)} min a unit`,
    ["producers", "available", "price from", "lead time", "CO2 (printing)"],
    q.options.map((o) => [o.producer_class, o.producers, money(o.price), o.lead_time_days === null ? "–" : `${o.lead_time_days} days`, `${o.co2_kg.toFixed(2)} kg`]),
  );
  const form = el("form", { id: "order-form" });
  const soon = new Date(Date.now() + 7 * 86400e3).toISOString().slice(0, 16);
  form.append(
    ...field("deadline", "Needed by (UTC)", el("input", { id: "deadline", name: "deadline", type: "datetime-local", value: soon, required: true })),
    ...field("city", "Deliver to (city)", el("input", { id: "city", name: "city", required: true, autocomplete: "address-level2" })),
    ...field("country", "Country (code)", el("input", { id: "country", name: "country", maxlength: 100, autocomplete: "country" })),
    ...field("reference", "Your reference", el("input", { id: "reference", name: "reference", maxlength: 200 })),
    el("button", { type: "submit" }, "Place the order"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const f = form.elements;
    const body = {
      lines: [
        {
          design_id: draft.design,
          material: draft.material,
          quantity: draft.quantity,
          deadline: `${f.deadline.value}:00Z`,
          destination: { city: f.city.value.trim(), country: f.country.value.trim() },
        },
      ],
      reference: f.reference.value.trim(),
    };
    try {
      const placed = await api("/orders", { method: "POST", body });
      draft = null;
      newOrder.replaceChildren(newOrder.firstChild, el("p", { role: "status" }, `Order ${placed.reference || placed.id} placed.`), quoteForm());
      await refresh();
    } catch (err) {
      showError(form, named(err));
    }
  });
  newOrder.replaceChildren(newOrder.firstChild, options, form);
}

function fundForm(o) {
  const id = `fund-${o.id}`;
  const form = el("form", { id, class: "fund" });
  form.append(
    ...field(`${id}-amount`, "Fund the escrow (amount)", el("input", { id: `${id}-amount`, name: "amount_minor", type: "number", min: 0.01, step: 0.01, required: true })),
    el("button", { type: "submit" }, "Fund"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const amount = Math.round(Number(form.elements.amount_minor.value) * 100);
    try {
      await api(`/orders/${encodeURIComponent(o.id)}/escrow`, { method: "POST", body: { amount_minor: amount } });
      await refresh();
    } catch (err) {
      showError(form, err);
    }
  });
  return form;
}

async function escrowOf(o) {
  try {
    return await api(`/orders/${encodeURIComponent(o.id)}/escrow`);
  } catch (err) {
    return null;
  }
}

let started = false;

async function refresh() {
  const orders = await api("/orders?limit=20");
  const sections = await Promise.all(orders.items.map(order));
  const escrows = await Promise.all(orders.items.map(escrowOf));
  orders.items.forEach((o, i) => {
    const e = escrows[i];
    sections[i].append(
      e && e.state !== "open"
        ? el("p", {}, `Escrow ${e.state}: ${(e.held / 100).toFixed(2)} held`)
        : fundForm(o),
    );
  });
  if (!started) {
    newOrder.append(quoteForm());
    started = true;
  }
  render(newOrder, ...(sections.length ? sections : [section("Orders", "orders", el("p", { class: "muted" }, "No orders yet."))]));
}

start(refresh);
