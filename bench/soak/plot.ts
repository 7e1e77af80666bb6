// The soak's chart: four panels over time (client-server RSS, heap used,
// event-loop delay p99, delivery p99), with the end of the warm-up marked.

export interface SoakPoint {
  minutes: number;
  rssMiB: number;
  heapMiB: number;
  eventLoopP99Ms: number;
  deliveryP99Ms: number;
}

const PANELS: { key: keyof Omit<SoakPoint, 'minutes'>; title: string; color: string }[] = [
  { key: 'rssMiB', title: 'client-server RSS, MiB', color: '#1b7f3b' },
  { key: 'heapMiB', title: 'client-server heap used, MiB', color: '#3a6ea5' },
  { key: 'eventLoopP99Ms', title: 'event-loop delay p99, ms', color: '#b5482a' },
  { key: 'deliveryP99Ms', title: 'delivery p99 (publish → receive), ms', color: '#7a3fa0' },
];

export function renderSoakChart(points: readonly SoakPoint[], warmupMinutes: number): string {
  const width = 720;
  const panelHeight = 150;
  const pad = { left: 60, right: 20, top: 28, bottom: 22 };
  const height = PANELS.length * panelHeight + 30;
  const xMax = Math.max(1e-9, ...points.map((p) => p.minutes));
  const x = (m: number) => pad.left + (m / xMax) * (width - pad.left - pad.right);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
  ];
  PANELS.forEach((panel, i) => {
    const top = i * panelHeight;
    const values = points.map((p) => p[panel.key]);
    const yMax = Math.max(1e-9, ...values) * 1.1;
    const y = (v: number) => top + panelHeight - pad.bottom - (v / yMax) * (panelHeight - pad.top - pad.bottom);
    const bottom = top + panelHeight - pad.bottom;
    parts.push(
      `<text x="${pad.left}" y="${top + 16}" font-weight="bold">${panel.title}</text>`,
      `<line x1="${pad.left}" y1="${bottom}" x2="${width - pad.right}" y2="${bottom}" stroke="black"/>`,
      `<line x1="${pad.left}" y1="${top + pad.top}" x2="${pad.left}" y2="${bottom}" stroke="black"/>`,
      `<text x="${pad.left - 6}" y="${y(yMax / 1.1) + 4}" text-anchor="end">${fmtTick(yMax / 1.1)}</text>`,
      `<text x="${pad.left - 6}" y="${bottom + 4}" text-anchor="end">0</text>`,
      `<line x1="${x(warmupMinutes)}" y1="${top + pad.top}" x2="${x(warmupMinutes)}" y2="${bottom}" stroke="#999" stroke-dasharray="4 3"/>`,
      `<polyline fill="none" stroke="${panel.color}" stroke-width="1.5" points="${points.map((p) => `${x(p.minutes).toFixed(1)},${y(p[panel.key]).toFixed(1)}`).join(' ')}"/>`,
    );
  });
  const axisY = PANELS.length * panelHeight + 12;
  for (let i = 0; i <= 4; i++) parts.push(`<text x="${x((xMax / 4) * i)}" y="${axisY}" text-anchor="middle">${((xMax / 4) * i).toFixed(xMax < 8 ? 1 : 0)} min</text>`);
  parts.push(`<text x="${x(warmupMinutes) + 4}" y="${pad.top + 10}" fill="#666">end of warm-up</text>`, '</svg>');
  return parts.join('\n') + '\n';
}

const fmtTick = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
