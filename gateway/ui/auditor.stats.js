// The auditor page's Supervision statistics tab: GET /v1/proof-requests:statistics drawn as
// two SVG bar charts of the on-time rate (per department, per proof item) and as a table.

import { api, el, language, t } from "./app.js";
import { SVG_NS, departmentName, errorBox, names, shown, stateLabel, svg } from "./auditor.common.js";

// --- 3. statistics -----------------------------------------------------------------------

/** A protobuf-JSON Duration ("12.5s") in words. */
function formatDuration(text) {
  const seconds = Number.parseFloat(String(text || "").replace(/s$/, ""));
  if (!Number.isFinite(seconds)) return t("aud.none");
  const fixed = (n) => (Math.round(n * 10) / 10).toLocaleString(language());
  if (seconds < 60) return t("aud.dur.seconds", { n: fixed(seconds) });
  if (seconds < 3600) return t("aud.dur.minutes", { n: fixed(seconds / 60) });
  if (seconds < 86400) return t("aud.dur.hours", { n: fixed(seconds / 3600) });
  return t("aud.dur.days", { n: fixed(seconds / 86400) });
}

function percent(rate) {
  return rate.toLocaleString(language(), { style: "percent", maximumFractionDigits: 1 });
}

export async function onStats(event) {
  event?.preventDefault();
  const query = new URLSearchParams();
  const department = document.getElementById("stats-department").value.trim();
  const item = document.getElementById("stats-item").value.trim();
  const from = document.getElementById("stats-from").value;
  const to = document.getElementById("stats-to").value;
  if (department) query.set("departmentCode", department);
  if (item) query.set("proofItemCode", item);
  if (from) query.set("startTime", new Date(`${from}T00:00:00`).toISOString());
  if (to) query.set("endTime", new Date(`${to}T00:00:00`).toISOString());
  const result = document.getElementById("stats-result");
  const button = document.getElementById("stats-submit");
  button.disabled = true;
  result.replaceChildren(el("p", { class: "card" }, t("app.loading")));
  try {
    const suffix = query.toString() ? `?${query}` : "";
    const [answer, known] = await Promise.all([api("GET", `/v1/proof-requests:statistics${suffix}`), names()]);
    shown.stats = () => renderStats(answer.rows || [], known);
    result.replaceChildren(shown.stats());
  } catch (error) {
    shown.stats = null;
    result.replaceChildren(errorBox(error));
  } finally {
    button.disabled = false;
  }
}

function totalOf(row) {
  return (row.stateCounts || []).reduce((sum, count) => sum + Number(count.count || 0), 0);
}

/** Sum the rows by `key` (department or item): answered, on time, overdue, total. */
function groupBy(rows, key) {
  const groups = new Map();
  for (const row of rows) {
    const code = row[key];
    const group = groups.get(code) || { code, answered: 0, onTime: 0, total: 0 };
    group.answered += Number(row.answered || 0);
    group.onTime += Number(row.answeredOnTime || 0);
    group.total += totalOf(row);
    groups.set(code, group);
  }
  return [...groups.values()];
}

const CHART_LABEL_W = 300;
const CHART_BAR_W = 440;
const CHART_VALUE_W = 230;
const CHART_ROW_H = 34;
const CHART_TOP = 26;

/** A horizontal bar chart of on-time rates; every bar has its figure as text beside it. */
function barChart(id, title, groups, nameOf) {
  const width = CHART_LABEL_W + CHART_BAR_W + CHART_VALUE_W;
  const height = CHART_TOP + groups.length * CHART_ROW_H + 10;
  const valueText = (group) =>
    group.answered
      ? t("aud.stats.bar", { rate: percent(group.onTime / group.answered), onTime: group.onTime, answered: group.answered })
      : t("aud.stats.noAnswers", { total: group.total });
  const summary = groups.map((group) => `${nameOf(group.code)} ${valueText(group)}`).join("; ");
  const chart = svg("svg", {
    id,
    class: "aud-chart",
    xmlns: SVG_NS,
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    role: "img",
    "aria-label": t("aud.stats.chartAria", { title, rows: summary }),
  });
  chart.append(svg("title", {}, title));
  // The scale: 0, 50 and 100 %.
  for (const tick of [0, 0.5, 1]) {
    const x = CHART_LABEL_W + tick * CHART_BAR_W;
    chart.append(
      svg("line", { x1: x, y1: CHART_TOP - 6, x2: x, y2: height - 6, class: "aud-grid" }),
      svg("text", { x, y: CHART_TOP - 10, "text-anchor": "middle", class: "aud-tick" }, percent(tick)),
    );
  }
  groups.forEach((group, i) => {
    const y = CHART_TOP + i * CHART_ROW_H;
    const name = nameOf(group.code);
    const shortName = name.length > 24 ? `${name.slice(0, 23)}…` : name;
    const rate = group.answered ? group.onTime / group.answered : 0;
    chart.append(
      svg(
        "g",
        { class: "aud-bar-row", "data-code": group.code },
        svg("title", {}, `${name} (${group.code}): ${valueText(group)}`),
        svg("text", { x: CHART_LABEL_W - 8, y: y + CHART_ROW_H / 2 + 5, "text-anchor": "end", class: "aud-bar-label" }, shortName),
        svg("rect", { x: CHART_LABEL_W, y: y + 6, width: CHART_BAR_W, height: CHART_ROW_H - 12, class: "aud-bar-track" }),
        svg("rect", { x: CHART_LABEL_W, y: y + 6, width: Math.round(rate * CHART_BAR_W), height: CHART_ROW_H - 12, class: "aud-bar" }),
        svg("text", { x: CHART_LABEL_W + CHART_BAR_W + 8, y: y + CHART_ROW_H / 2 + 5, class: "aud-bar-value" }, valueText(group)),
      ),
    );
  });
  return el("figure", { class: "aud-chart-figure" }, el("figcaption", {}, title), el("div", { class: "aud-drawing" }, chart));
}

function renderStats(rows, known) {
  if (!rows.length) return el("p", { class: "card", id: "stats-none" }, t("aud.stats.none"));
  const departmentOf = (code) => known.departments.get(code) || code;
  const itemOf = (code) => known.items.get(code) || code;
  const columns = ["department", "item", "total", "answered", "onTime", "rate", "median", "overdue", "states"];
  const table = el(
    "table",
    { id: "stats-table" },
    el("caption", {}, t("aud.stats.table")),
    el("thead", {}, el("tr", {}, columns.map((key) => el("th", { scope: "col" }, t(`aud.stats.col.${key}`))))),
    el(
      "tbody",
      {},
      rows.map((row) => {
        const answered = Number(row.answered || 0);
        const onTime = Number(row.answeredOnTime || 0);
        const states = (row.stateCounts || [])
          .filter((count) => Number(count.count || 0) > 0)
          .map((count) => `${stateLabel(count.state)} ${count.count}`)
          .join(", ");
        return el(
          "tr",
          { dataset: { department: row.departmentCode, item: row.proofItemCode } },
          el("th", { scope: "row" }, departmentName(known, row.departmentCode)),
          el("td", {}, itemOf(row.proofItemCode) === row.proofItemCode ? row.proofItemCode : `${itemOf(row.proofItemCode)} (${row.proofItemCode})`),
          el("td", {}, String(totalOf(row))),
          el("td", {}, String(answered)),
          el("td", {}, String(onTime)),
          el("td", {}, answered ? percent(onTime / answered) : t("aud.none")),
          el("td", {}, row.medianAnswerTime ? formatDuration(row.medianAnswerTime) : t("aud.none")),
          el("td", {}, String(row.overdue || 0)),
          el("td", {}, states || t("aud.none")),
        );
      }),
    ),
  );
  return el(
    "section",
    { class: "card", "aria-labelledby": "stats-heading" },
    el("h2", { id: "stats-heading", class: "aud-visually-hidden" }, t("aud.stats.heading")),
    barChart("chart-departments", t("aud.stats.byDepartment"), groupBy(rows, "departmentCode"), departmentOf),
    barChart("chart-items", t("aud.stats.byItem"), groupBy(rows, "proofItemCode"), itemOf),
    el("div", { class: "aud-scroll" }, table),
  );
}
