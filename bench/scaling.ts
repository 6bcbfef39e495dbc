// The scaling series of `make bench` (issue 17): how the cost of a command grows with the
// number of devices on the host. Pure functions: a least-squares line through the medians
// (fixed cost + cost per device) and an SVG chart of time against devices on log-log axes.
// bench/report.ts reads the measured files and calls these; nothing here touches a file.

/** One measured point: a host size and the median wall time of one tool and command. */
export interface ScalePoint {
  /** Devices on the host: active plus defined entries. */
  devices: number;
  ms: number;
}

/** One line of the chart: a tool running one command, over every host size. */
export interface ScaleSeries {
  tool: "ours" | "peer";
  command: string;
  points: ScalePoint[];
}

/** A fitted line `ms = fixedMs + perDeviceUs / 1000 × devices`. */
export interface LinearFit {
  fixedMs: number;
  perDeviceUs: number;
  /** Coefficient of determination of the fit (1 = every point on the line). */
  r2: number;
}

/**
 * Least-squares fit of time against devices. With one point the whole time is fixed cost.
 *
 * @example
 * ```ts
 * import { fitLinear } from "./scaling.ts";
 * const fit = fitLinear([{ devices: 100, ms: 12 }, { devices: 200, ms: 22 }]);
 * if (Math.abs(fit.perDeviceUs - 100) > 1e-9 || Math.abs(fit.fixedMs - 2) > 1e-9) {
 *   throw new Error("wrong fit");
 * }
 * ```
 */
export function fitLinear(points: readonly ScalePoint[]): LinearFit {
  const n = points.length;
  if (n === 0) return { fixedMs: NaN, perDeviceUs: NaN, r2: NaN };
  const mx = points.reduce((s, p) => s + p.devices, 0) / n;
  const my = points.reduce((s, p) => s + p.ms, 0) / n;
  let sxx = 0, sxy = 0, syy = 0;
  for (const p of points) {
    sxx += (p.devices - mx) ** 2;
    sxy += (p.devices - mx) * (p.ms - my);
    syy += (p.ms - my) ** 2;
  }
  if (sxx === 0) return { fixedMs: my, perDeviceUs: 0, r2: 1 };
  const slope = sxy / sxx;
  const r2 = syy === 0 ? 1 : (sxy * sxy) / (sxx * syy);
  return { fixedMs: my - slope * mx, perDeviceUs: slope * 1000, r2 };
}

const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];
const W = 760, H = 460;
const M = { left: 70, right: 230, top: 40, bottom: 56 };

/** Decade ticks 1, 2, 5 × 10^k covering [lo, hi]. */
function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= lo * 0.999 && v <= hi * 1.001) ticks.push(v);
    }
  }
  return ticks;
}

function label(v: number): string {
  if (v >= 1000 && v % 1000 === 0) return `${v / 1000}k`;
  return v >= 1 ? String(Math.round(v * 100) / 100) : v.toPrecision(1);
}

function esc(s: string): string {
  return s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

/**
 * Renders the series as an SVG line chart, log scale on both axes: one colour per command,
 * ours solid with round markers, Debian's dashed with square markers.
 *
 * @example
 * ```ts
 * import { renderScalingSvg } from "./scaling.ts";
 * const svg = renderScalingSvg("list", [
 *   { tool: "ours", command: "list", points: [{ devices: 768, ms: 25 }, { devices: 3072, ms: 40 }] },
 * ]);
 * if (!svg.startsWith("<svg") || !svg.includes("<polyline")) throw new Error("no chart");
 * ```
 */
export function renderScalingSvg(title: string, series: readonly ScaleSeries[]): string {
  const pts = series.flatMap((s) => s.points).filter((p) => p.devices > 0 && p.ms > 0);
  if (pts.length === 0) {
    return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}"></svg>\n`;
  }
  const xlo = Math.min(...pts.map((p) => p.devices)) / 1.5;
  const xhi = Math.max(...pts.map((p) => p.devices)) * 1.5;
  const ylo = Math.min(...pts.map((p) => p.ms)) / 1.5;
  const yhi = Math.max(...pts.map((p) => p.ms)) * 1.5;
  const pw = W - M.left - M.right, ph = H - M.top - M.bottom;
  const x = (v: number) => M.left + (Math.log10(v / xlo) / Math.log10(xhi / xlo)) * pw;
  const y = (v: number) => M.top + ph - (Math.log10(v / ylo) / Math.log10(yhi / ylo)) * ph;
  const f = (v: number) => v.toFixed(1);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" ` +
      `viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(
    `<text x="${M.left}" y="24" font-size="15" font-weight="bold">${esc(title)}</text>`,
  );
  for (const t of logTicks(xlo, xhi)) {
    out.push(
      `<line x1="${f(x(t))}" y1="${M.top}" x2="${f(x(t))}" y2="${M.top + ph}" stroke="#ddd"/>`,
    );
    out.push(
      `<text x="${f(x(t))}" y="${M.top + ph + 16}" text-anchor="middle">${label(t)}</text>`,
    );
  }
  for (const t of logTicks(ylo, yhi)) {
    out.push(
      `<line x1="${M.left}" y1="${f(y(t))}" x2="${M.left + pw}" y2="${f(y(t))}" stroke="#ddd"/>`,
    );
    out.push(
      `<text x="${M.left - 6}" y="${f(y(t) + 4)}" text-anchor="end">${label(t)}</text>`,
    );
  }
  out.push(
    `<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`,
  );
  out.push(
    `<text x="${M.left + pw / 2}" y="${H - 14}" text-anchor="middle">` +
      `devices on the host (active + defined, log scale)</text>`,
  );
  out.push(
    `<text transform="translate(18 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">` +
      `wall time, ms (log scale)</text>`,
  );
  const commands = [...new Set(series.map((s) => s.command))];
  let ly = M.top + 6;
  for (const s of series) {
    const color = COLORS[commands.indexOf(s.command) % COLORS.length]!;
    const sorted = s.points.filter((p) => p.devices > 0 && p.ms > 0)
      .sort((a, b) => a.devices - b.devices);
    if (sorted.length === 0) continue;
    const dash = s.tool === "peer" ? ` stroke-dasharray="6 4"` : "";
    out.push(
      `<polyline fill="none" stroke="${color}" stroke-width="2"${dash} points="${
        sorted.map((p) => `${f(x(p.devices))},${f(y(p.ms))}`).join(" ")
      }"/>`,
    );
    for (const p of sorted) {
      out.push(
        s.tool === "peer"
          ? `<rect x="${f(x(p.devices) - 3.5)}" y="${
            f(y(p.ms) - 3.5)
          }" width="7" height="7" fill="${color}"/>`
          : `<circle cx="${f(x(p.devices))}" cy="${f(y(p.ms))}" r="4" fill="${color}"/>`,
      );
    }
    const lx = M.left + pw + 16;
    out.push(
      `<line x1="${lx}" y1="${ly}" x2="${
        lx + 28
      }" y2="${ly}" stroke="${color}" stroke-width="2"${dash}/>`,
    );
    const who = s.tool === "peer" ? "Debian 1.2.0" : "ours";
    out.push(`<text x="${lx + 34}" y="${ly + 4}">${esc(`${who}: ${s.command}`)}</text>`);
    ly += 20;
  }
  out.push("</svg>");
  return out.join("\n") + "\n";
}
