/**
 * Adds a caption strip under a generated SVG plot (the bench's latency plot, the chaos timeline),
 * so that a plot copied out of the report still says which machine it was measured on.
 */
const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function captionSvg(svg: string, caption: string, strip = 20): string {
  const root = /<svg\b[^>]*\bheight="(\d+(?:\.\d+)?)"[^>]*>/.exec(svg);
  if (!root || !svg.trimEnd().endsWith('</svg>')) throw new Error('not an SVG with a numeric height');
  const height = Number(root[1]);
  const grown = root[0].replace(/\bheight="[^"]*"/, `height="${height + strip}"`);
  const text =
    `<rect x="0" y="${height}" width="100%" height="${strip}" fill="white"/>\n` +
    `<text x="8" y="${height + strip - 6}" font-size="11" fill="#555">${escapeXml(caption)}</text>\n`;
  const body = svg.trimEnd().slice(0, -'</svg>'.length);
  return `${body.replace(root[0], grown)}${text}</svg>\n`;
}
