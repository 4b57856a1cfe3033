// A bar chart drawn by hand in SVG: deliveries per minute (delivered, failed, waiting stacked) and the success
// rate as a line, over a fixed span of minutes so that quiet minutes show as gaps.
const NS = 'http://www.w3.org/2000/svg';
const WIDTH = 720;
const HEIGHT = 220;
const PAD = { left: 40, right: 40, top: 12, bottom: 26 };

function node(tag, attributes, text) {
  const element = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

// The smallest of 2, 4, 5, 10, 20, 40, 50, 100... at or above value, so that the grid lines fall on whole numbers.
function niceCeiling(value) {
  for (let scale = 1; ; scale *= 10) {
    for (const step of [2, 4, 5, 10]) {
      if (step * scale >= value) return step * scale;
    }
  }
}

// points: the API's minutes [{minute, total, delivered, failed, waiting, success_rate}]; since: the first minute.
export function deliveriesChart(points, since, minutes) {
  const start = new Date(since).getTime();
  const byMinute = new Map(points.map((point) => [Math.round((new Date(point.minute).getTime() - start) / 60000),
    point]));
  const peak = niceCeiling(Math.max(1, ...points.map((point) => point.total)));
  const plotWidth = WIDTH - PAD.left - PAD.right;
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const slot = plotWidth / minutes;
  const y = (value) => PAD.top + plotHeight - (value / peak) * plotHeight;

  const svg = node('svg', { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img', class: 'chart',
    'aria-label': `Deliveries per minute over the last ${minutes} minutes, peak ${peak}` });
  svg.append(node('title', {}, 'Deliveries per minute'));
  for (const share of [0, 0.5, 1]) {
    const at = y(peak * share);
    svg.append(node('line', { x1: PAD.left, x2: WIDTH - PAD.right, y1: at, y2: at, class: 'grid' }));
    svg.append(node('text', { x: PAD.left - 6, y: at + 4, 'text-anchor': 'end', class: 'axis' },
      String(Math.round(peak * share))));
  }
  const rate = [];
  for (let index = 0; index < minutes; index += 1) {
    const point = byMinute.get(index);
    if (!point) continue;
    const x = PAD.left + index * slot + slot * 0.1;
    let base = 0;
    for (const [part, kind] of [[point.delivered, 'delivered'], [point.failed, 'failed'], [point.waiting, 'waiting']]) {
      if (!part) continue;
      const bar = node('rect', { x, width: Math.max(1, slot * 0.8), y: y(base + part), height: y(base) - y(base + part),
        class: `bar bar-${kind}` });
      bar.append(node('title', {}, `${new Date(point.minute).toLocaleTimeString()}: ${part} ${kind}`));
      svg.append(bar);
      base += part;
    }
    if (point.success_rate !== null) {
      rate.push(`${x + slot * 0.4},${PAD.top + plotHeight - point.success_rate * plotHeight}`);
    }
  }
  if (rate.length > 1) svg.append(node('polyline', { points: rate.join(' '), class: 'rate' }));
  svg.append(node('text', { x: WIDTH - PAD.right + 6, y: PAD.top + 4, class: 'axis' }, '100 %'));
  svg.append(node('text', { x: WIDTH - PAD.right + 6, y: PAD.top + plotHeight, class: 'axis' }, '0 %'));
  for (const index of [0, Math.floor(minutes / 2), minutes - 1]) {
    const label = new Date(start + index * 60000).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    svg.append(node('text', { x: PAD.left + index * slot + slot / 2, y: HEIGHT - 8, 'text-anchor': 'middle',
      class: 'axis' }, label));
  }
  return svg;
}
