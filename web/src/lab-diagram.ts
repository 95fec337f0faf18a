import type { BuildState, LabTopology } from '../../src/service/web/shared-types.js';

/*
 * A lab drawn from its file: each machine a box (name, build state), each network a bar (name,
 * subnet), and a line from a machine to each network it has a NIC on, labelled with the NIC and its
 * address or dhcp. Pure: topology and states in, an SVG tree out, so it is tested as text and the
 * page turns the same tree into elements (text as text nodes, never markup).
 */

export interface SvgNode {
  tag: string;
  attrs: Record<string, string | number>;
  children: Array<SvgNode | string>;
}

const svg = (tag: string, attrs: Record<string, string | number>, ...children: Array<SvgNode | string>): SvgNode => ({ tag, attrs, children });

const BOX_W = 150;
const BOX_H = 54;
const GAP = 30;
const MARGIN = 20;
/** Room under the boxes before the first network: the NIC labels sit on the lines there. */
const DROP = 60;
const NET_GAP = 56;

/** A machine's state as shown: its job's, or 'waiting' before the lab has jobs (a lab file not yet submitted). */
export type MachineState = BuildState | 'waiting';

export function labDiagram(t: LabTopology, states: Readonly<Record<string, MachineState>> = {}): SvgNode {
  const n = Math.max(1, t.machines.length);
  const width = MARGIN * 2 + n * BOX_W + (n - 1) * GAP;
  const netY = (i: number): number => MARGIN + BOX_H + DROP + i * NET_GAP;
  const height = netY(Math.max(0, t.networks.length - 1)) + 40;
  const netIndex = new Map(t.networks.map((net, i) => [net.name, i]));
  const nets = t.networks.map((net, i) => svg('g', { class: 'lab-network', 'data-network': net.name },
    svg('line', { x1: MARGIN, y1: netY(i), x2: width - MARGIN, y2: netY(i) }),
    svg('text', { x: MARGIN, y: netY(i) + 18 }, `${net.name} ${net.subnet}${net.gateway ? ` via ${net.gateway}` : ''}`)));
  const machines = t.machines.map((m, i) => {
    const x = MARGIN + i * (BOX_W + GAP);
    const state = states[m.name] ?? 'waiting';
    // The NICs spread along the box's bottom edge, so two lines to two networks stay apart.
    const links = m.nics.flatMap((nic, k) => {
      const at = netIndex.get(nic.network);
      if (at === undefined) return [];
      const lx = x + ((k + 1) * BOX_W) / (m.nics.length + 1);
      return [svg('g', { class: 'lab-link', 'data-nic': nic.nic, 'data-network': nic.network },
        svg('line', { x1: lx, y1: MARGIN + BOX_H, x2: lx, y2: netY(at) }),
        svg('circle', { cx: lx, cy: netY(at), r: 3 }),
        svg('text', { x: lx + 4, y: MARGIN + BOX_H + 14 + k * 14 }, `${nic.nic} ${nic.address}`))];
    });
    return svg('g', { class: `lab-machine state-${state}`, 'data-machine': m.name, 'data-state': state },
      ...links,
      svg('rect', { x, y: MARGIN, width: BOX_W, height: BOX_H, rx: 6 }),
      svg('text', { x: x + 10, y: MARGIN + 22, class: 'lab-machine-name' }, m.name),
      svg('text', { x: x + 10, y: MARGIN + 42, class: 'lab-machine-state' }, state));
  });
  return svg('svg', {
    xmlns: 'http://www.w3.org/2000/svg', class: 'lab-diagram', viewBox: `0 0 ${width} ${height}`, width, height,
    role: 'img', 'aria-label': `Lab ${t.name}: ${t.machines.length} machines on ${t.networks.length} networks`,
  }, svg('title', {}, `Lab ${t.name}`), ...nets, ...machines);
}

const escape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The tree as SVG markup, one element a line: what the golden test compares. */
export function svgText(node: SvgNode, indent = ''): string {
  const attrs = Object.entries(node.attrs).map(([k, v]) => ` ${k}="${escape(String(v))}"`).join('');
  if (node.children.length === 0) return `${indent}<${node.tag}${attrs}/>\n`;
  if (node.children.every((c) => typeof c === 'string')) return `${indent}<${node.tag}${attrs}>${escape(node.children.join(''))}</${node.tag}>\n`;
  const inner = node.children.map((c) => (typeof c === 'string' ? `${indent}  ${escape(c)}\n` : svgText(c, `${indent}  `))).join('');
  return `${indent}<${node.tag}${attrs}>\n${inner}${indent}</${node.tag}>\n`;
}
