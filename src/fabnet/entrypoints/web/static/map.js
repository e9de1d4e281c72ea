// The network map on a canvas, with no online tiles: country boundaries from the
// vendored Natural Earth TopoJSON (world/countries-50m.json), an equirectangular
// projection fitted to what is shown, producers, destinations, flows and couriers' legs.

let world = null;

async function countries() {
  if (world) return world;
  const topo = await (await fetch("/static/world/countries-50m.json")).json();
  const [sx, sy] = topo.transform.scale;
  const [tx, ty] = topo.transform.translate;
  const arcs = topo.arcs.map((arc) => {
    let x = 0;
    let y = 0;
    return arc.map(([dx, dy]) => {
      x += dx;
      y += dy;
      return [x * sx + tx, y * sy + ty];
    });
  });
  const ring = (indexes) => {
    const points = [];
    for (const i of indexes) {
      const arc = i < 0 ? arcs[~i].slice().reverse() : arcs[i];
      points.push(...(points.length ? arc.slice(1) : arc));
    }
    return points;
  };
  const polygons = [];
  for (const g of topo.objects.countries.geometries) {
    if (g.type === "Polygon") polygons.push(g.arcs.map(ring));
    if (g.type === "MultiPolygon") for (const p of g.arcs) polygons.push(p.map(ring));
  }
  world = polygons;
  return world;
}

function fit(points, width, height, minPad) {
  let [minLon, minLat, maxLon, maxLat] = [180, 90, -180, -90];
  for (const [lat, lon] of points) {
    minLon = Math.min(minLon, lon);
    maxLon = Math.max(maxLon, lon);
    minLat = Math.min(minLat, lat);
    maxLat = Math.max(maxLat, lat);
  }
  if (!points.length) [minLon, minLat, maxLon, maxLat] = [-170, -60, 190, 80];
  const padLon = Math.max(minPad * 1.6, (maxLon - minLon) * 0.15);
  const padLat = Math.max(minPad, (maxLat - minLat) * 0.15);
  minLon -= padLon;
  maxLon += padLon;
  minLat -= padLat;
  maxLat += padLat;
  const k = Math.cos((((minLat + maxLat) / 2) * Math.PI) / 180);
  const scale = Math.min(width / ((maxLon - minLon) * k), height / (maxLat - minLat));
  const cx = (minLon + maxLon) / 2;
  const cy = (minLat + maxLat) / 2;
  return (lat, lon) => [width / 2 + (lon - cx) * k * scale, height / 2 - (lat - cy) * scale];
}

// minPad: degrees of latitude shown at least around what is drawn (a region, a city)
export async function drawMap(canvas, data, { minPad = 2.5 } = {}) {
  const polygons = await countries();
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  canvas.width = width * ratio;
  canvas.height = height * ratio;
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  const shown = [
    ...data.producers.map((p) => [p[0], p[1]]),
    ...data.destinations.map((d) => [d[0], d[1]]),
    ...data.legs.flatMap((l) => [[l[0], l[1]], [l[2], l[3]]]),
  ];
  const at = fit(shown, width, height, minPad);
  ctx.fillStyle = "#dfe7ee";
  ctx.fillRect(0, 0, width, height);
  ctx.fillStyle = "#f7f5ef";
  ctx.strokeStyle = "#9aa5b1";
  ctx.lineWidth = 0.6;
  for (const polygon of polygons) {
    ctx.beginPath();
    for (const ring of polygon) {
      ring.forEach(([lon, lat], i) => {
        const [x, y] = at(lat, lon);
        if (i) ctx.lineTo(x, y);
        else ctx.moveTo(x, y);
      });
      ctx.closePath();
    }
    ctx.fill("evenodd");
    ctx.stroke();
  }
  const most = Math.max(1, ...data.flows.map((f) => f[4]));
  ctx.strokeStyle = "rgba(180, 83, 9, 0.35)";
  for (const [a, b, c, d, units] of data.flows) {
    const [x1, y1] = at(a, b);
    const [x2, y2] = at(c, d);
    ctx.lineWidth = 0.5 + (2.5 * units) / most;
    ctx.beginPath();
    ctx.moveTo(x1, y1);
    ctx.lineTo(x2, y2);
    ctx.stroke();
  }
  ctx.setLineDash([4, 3]);
  ctx.strokeStyle = "#1d4ed8";
  ctx.lineWidth = 1.2;
  for (const [a, b, c, d] of data.legs) {
    const [x1, y1] = at(a, b);
    const [x2, y2] = at(c, d);
    ctx.beginPath();
    ctx.moveTo(x1, y1);
    ctx.lineTo(x2, y2);
    ctx.stroke();
  }
  ctx.setLineDash([]);
  for (const [lat, lon, machines, busy] of data.producers) {
    const [x, y] = at(lat, lon);
    ctx.fillStyle = busy ? "#15803d" : machines ? "#64748b" : "#cbd5e1";
    ctx.beginPath();
    ctx.arc(x, y, 2.5, 0, 2 * Math.PI);
    ctx.fill();
  }
  ctx.fillStyle = "#b91c1c";
  for (const [lat, lon] of data.destinations) {
    const [x, y] = at(lat, lon);
    ctx.fillRect(x - 4, y - 4, 8, 8);
  }
}
