// A provenance bundle verified in the browser, with the browser's own cryptography
// (WebCrypto: SHA-256 and Ed25519): each entry's tlog-proof (c2sp.org/tlog-proof@v1)
// leads from the entry's leaf hash to the root of a checkpoint (RFC 9162 inclusion),
// and the checkpoint is a note signed by the log's key (c2sp.org/signed-note), the key
// the caller gives (the hub's published log key: GET /ledger/key). Witness cosignatures
// are checked offline by `fabnet verify`, which takes the witnesses' keys.

const enc = new TextEncoder();

export class ProofError extends Error {}

function b64(text, what) {
  let raw;
  try {
    raw = atob(text);
  } catch (err) {
    throw new ProofError(`${what} is not base64`);
  }
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

async function sha256(...parts) {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const all = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return new Uint8Array(await crypto.subtle.digest("SHA-256", all));
}

const leafHash = (leaf) => sha256(Uint8Array.of(0), leaf);
const nodeHash = (l, r) => sha256(Uint8Array.of(1), l, r);

function same(a, b) {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

// RFC 9162 2.1.3.2: the root an inclusion proof implies
async function rootFrom(index, size, leaf, proof) {
  if (!(index >= 0 && index < size)) throw new ProofError(`index ${index} is not in a tree of ${size}`);
  let fn = BigInt(index);
  let sn = BigInt(size - 1);
  let r = leaf;
  for (const p of proof) {
    if (sn === 0n) throw new ProofError("the proof is longer than the tree is deep");
    if (fn & 1n || fn === sn) {
      r = await nodeHash(p, r);
      if (!(fn & 1n)) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw new ProofError("the proof is shorter than the tree is deep");
  return r;
}

export async function parseKey(text) {
  // name+hexid+base64: the base64 may hold '+' itself, so only the first two split
  const t = text.trim();
  const first = t.indexOf("+");
  const second = t.indexOf("+", first + 1);
  if (first < 1 || second < 0) throw new ProofError("a log key is name+id+key");
  const [name, hexId, blob] = [t.slice(0, first), t.slice(first + 1, second), t.slice(second + 1)];
  const raw = b64(blob || "", "the log key");
  if (raw.length !== 33 || raw[0] !== 1) throw new ProofError("the log key is not an Ed25519 note key");
  const id = (await sha256(enc.encode(`${name}\n`), raw)).slice(0, 4);
  const hex = [...id].map((b) => b.toString(16).padStart(2, "0")).join("");
  if (hex !== hexId) throw new ProofError("the log key's id does not match the key");
  const key = await crypto.subtle.importKey("raw", raw.slice(1), { name: "Ed25519" }, false, ["verify"]);
  return { name, id, key };
}

async function openCheckpoint(note, logKey) {
  const cut = note.lastIndexOf("\n\n");
  if (cut < 0) throw new ProofError("a checkpoint note needs a blank line before its signatures");
  const text = note.slice(0, cut + 1);
  let signed = false;
  for (const line of note.slice(cut + 2).split("\n").filter(Boolean)) {
    const [dash, name, sig] = line.split(" ");
    if (dash !== "\u2014" || !sig) throw new ProofError("malformed signature line");
    const raw = b64(sig, "a signature");
    if (name !== logKey.name || !same(raw.slice(0, 4), logKey.id)) continue; // a witness
    if (raw.length !== 68) throw new ProofError("the log's signature is malformed");
    if (!(await crypto.subtle.verify("Ed25519", logKey.key, raw.slice(4), enc.encode(text)))) {
      throw new ProofError("the log's signature on the checkpoint does not verify");
    }
    signed = true;
  }
  if (!signed) throw new ProofError("the checkpoint is not signed by the log's key");
  const [origin, size, root] = text.split("\n");
  if (!/^\d+$/.test(size)) throw new ProofError("the checkpoint's size is not a number");
  return { origin, size: Number(size), root: b64(root, "the root") };
}

async function verifyEntry(entry, logKey) {
  const [head, ...rest] = entry.proof.split("\n\n");
  const lines = head.split("\n");
  if (lines[0] !== "c2sp.org/tlog-proof@v1") throw new ProofError("not a tlog-proof");
  let i = 1;
  if (lines[i] && lines[i].startsWith("extra ")) i += 1;
  if (!lines[i] || !/^index (0|[1-9]\d*)$/.test(lines[i])) throw new ProofError("missing 'index N'");
  const index = Number(lines[i].slice(6));
  const proof = lines.slice(i + 1).map((l) => b64(l, "a proof hash"));
  if (proof.some((p) => p.length !== 32)) throw new ProofError("proof hashes are 32 bytes");
  const checkpoint = await openCheckpoint(rest.join("\n\n"), logKey);
  const leaf = b64(entry.leaf, "the leaf");
  const root = await rootFrom(index, checkpoint.size, await leafHash(leaf), proof);
  if (!same(root, checkpoint.root)) throw new ProofError("the inclusion proof does not lead to the root");
  return { index, checkpoint, record: JSON.parse(new TextDecoder().decode(leaf)) };
}

// Every entry must verify, and no log index may appear twice; returns what was checked.
export async function verifyBundle(bundle, logKeyText) {
  const logKey = await parseKey(logKeyText);
  if (!bundle || !Array.isArray(bundle.entries)) throw new ProofError("a bundle has an 'entries' list");
  const seen = new Set();
  const sizes = new Set();
  const events = [];
  for (const [n, entry] of bundle.entries.entries()) {
    let done;
    try {
      done = await verifyEntry(entry, logKey);
    } catch (err) {
      throw new ProofError(`entry ${n}: ${err.message}`);
    }
    if (seen.has(done.index)) throw new ProofError(`entry ${n}: log index ${done.index} twice`);
    seen.add(done.index);
    sizes.add(done.checkpoint.size);
    events.push(done.record.event || "?");
  }
  return { entries: bundle.entries.length, sizes: [...sizes], origin: logKey.name, events };
}
