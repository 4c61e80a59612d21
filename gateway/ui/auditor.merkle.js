// The Merkle audit path of a verified receipt, drawn as inline SVG (createElementNS, classes
// from style.css) from the answer's `auditPath`, with a table of the full hashes below.

import { el, t } from "./app.js";
import { SVG_NS, hexOf, shortHash, svg } from "./auditor.common.js";

// --- the Merkle path drawing -------------------------------------------------------------

const BOX_W = 210;
const BOX_H = 46;
const ROW_H = 86;
const SIDE_DX = 250;
const DRAW_W = 2 * SIDE_DX + BOX_W + 20;
const PAD = 14;

/** One hash box: rect, a label line and the abbreviated hash; the full hash in <title>. */
function hashBox(cx, cy, title, hex, cls) {
  return svg(
    "g",
    { class: `aud-node ${cls}` },
    svg("title", {}, `${title}: ${hex}`),
    svg("rect", { x: cx - BOX_W / 2, y: cy - BOX_H / 2, width: BOX_W, height: BOX_H, rx: 5 }),
    svg("text", { x: cx, y: cy - 5, "text-anchor": "middle", class: "aud-node-label" }, title),
    svg("text", { x: cx, y: cy + 14, "text-anchor": "middle", class: "aud-node-hash" }, shortHash(hex)),
  );
}

function edge(x1, y1, x2, y2) {
  return svg("line", { x1, y1, x2, y2, class: "aud-edge" });
}

/** The audit path drawn bottom-up: the leaf, each step's sibling beside the path's node on
 * its side, the node the two make above them, up to the root; plus a table of full hashes. */
export function merkleFigure(answer) {
  const steps = answer.auditPath || [];
  const figure = el("figure", { class: "aud-merkle-figure" });
  figure.append(el("h3", { id: "merkle-heading" }, t("aud.merkle.heading")));
  if (!answer.leafHash) {
    figure.append(el("p", {}, t("aud.merkle.none")));
    return figure;
  }
  const leafHex = hexOf(answer.leafHash);
  const rootHex = steps.length ? hexOf(steps[steps.length - 1].node) : leafHex;
  const checkpointHex = hexOf(answer.checkpoint?.rootHash);
  const matches = checkpointHex !== "" && rootHex === checkpointHex;
  const rows = steps.length + 1;
  const height = rows * ROW_H + PAD * 2 + 24;
  const cx = DRAW_W / 2;
  const rowY = (row) => PAD + 24 + (rows - 1 - row) * ROW_H + BOX_H / 2;
  const index = answer.entry?.index ?? "0";
  const drawing = svg("svg", {
    class: "aud-merkle",
    id: "merkle-path",
    xmlns: SVG_NS,
    width: DRAW_W,
    height,
    viewBox: `0 0 ${DRAW_W} ${height}`,
    role: "img",
    "aria-label": t("aud.merkle.aria", {
      leaf: shortHash(leafHex),
      steps: steps.length,
      root: shortHash(rootHex),
      match: t(matches ? "aud.merkle.matches" : "aud.merkle.differs"),
    }),
  });
  drawing.dataset.steps = String(steps.length);
  // Edges first, so the boxes sit on top of them.
  const edges = svg("g", { class: "aud-edges" });
  const boxes = svg("g", {});
  boxes.append(
    svg(
      "g",
      { class: "merkle-leaf" },
      hashBox(cx, rowY(0), steps.length ? t("aud.merkle.leaf", { index }) : `${t("aud.merkle.leaf", { index })} = ${t("aud.merkle.root")}`, leafHex, "aud-path"),
    ),
  );
  steps.forEach((step, i) => {
    const below = rowY(i);
    const above = rowY(i + 1);
    const left = Boolean(step.siblingIsLeft);
    const sx = left ? cx - SIDE_DX : cx + SIDE_DX;
    const isRoot = i === steps.length - 1;
    const nodeTitle = isRoot ? t("aud.merkle.root") : t("aud.merkle.node", { step: i + 1 });
    edges.append(edge(cx, below - BOX_H / 2, cx, above + BOX_H / 2), edge(sx, below - BOX_H / 2, cx, above + BOX_H / 2));
    boxes.append(
      svg(
        "g",
        { class: "merkle-step", "data-step": i + 1, "data-side": left ? "left" : "right" },
        hashBox(
          sx,
          below,
          t("aud.merkle.sibling", { side: t(left ? "aud.merkle.left" : "aud.merkle.right") }),
          hexOf(step.sibling),
          "aud-sibling",
        ),
        hashBox(cx, above, nodeTitle, hexOf(step.node), isRoot ? "aud-root" : "aud-path"),
      ),
    );
  });
  const verdictText = t(matches ? "aud.merkle.rootMatches" : "aud.merkle.rootDiffers");
  drawing.append(
    svg("title", {}, t("aud.merkle.summary", { steps: steps.length })),
    svg(
      "text",
      { x: cx, y: PAD + 10, "text-anchor": "middle", class: matches ? "aud-root-ok" : "aud-root-bad", id: "merkle-root-verdict" },
      verdictText,
    ),
    edges,
    boxes,
  );
  figure.append(
    el("div", { class: "aud-drawing" }, drawing),
    el("figcaption", {}, t("aud.merkle.summary", { steps: steps.length }), " · ", verdictText),
    el(
      "details",
      { class: "aud-path-table" },
      el("summary", {}, t("aud.merkle.table")),
      el(
        "table",
        {},
        el(
          "thead",
          {},
          el(
            "tr",
            {},
            el("th", { scope: "col" }, t("aud.merkle.step")),
            el("th", { scope: "col" }, t("aud.merkle.side")),
            el("th", { scope: "col" }, t("aud.merkle.siblingHash")),
            el("th", { scope: "col" }, t("aud.merkle.nodeHash")),
          ),
        ),
        el(
          "tbody",
          {},
          el("tr", {}, el("th", { scope: "row" }, "0"), el("td", {}, t("aud.merkle.leafHash")), el("td", {}, t("aud.none")), el("td", {}, el("code", {}, leafHex))),
          steps.map((step, i) =>
            el(
              "tr",
              {},
              el("th", { scope: "row" }, String(i + 1)),
              el("td", {}, t(step.siblingIsLeft ? "aud.merkle.left" : "aud.merkle.right")),
              el("td", {}, el("code", {}, hexOf(step.sibling))),
              el("td", {}, el("code", {}, hexOf(step.node))),
            ),
          ),
          el("tr", {}, el("th", { scope: "row" }, "—"), el("td", {}, t("aud.merkle.checkpointRoot")), el("td", {}, t("aud.none")), el("td", {}, el("code", {}, checkpointHex || t("aud.none")))),
        ),
      ),
    ),
  );
  return figure;
}
