import { XMLParser } from 'fast-xml-parser';

export type XmlChild = string | number | boolean | XmlNode | undefined | null;
export interface XmlNode {
  readonly name: string;
  readonly children: XmlChild[];
}

export function el(name: string, ...children: (XmlChild | XmlChild[])[]): XmlNode {
  return { name, children: children.flat() };
}

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

function render(node: XmlNode): string {
  const inner = node.children
    .map((child) => {
      if (child === undefined || child === null) return '';
      if (typeof child === 'object') return render(child);
      return escapeXml(String(child));
    })
    .join('');
  return `<${node.name}>${inner}</${node.name}>`;
}

export function xmlDocument(root: XmlNode): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${render(root)}\n`;
}

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false, // keys like "0001" and ETags stay strings
  trimValues: false,
  isArray: (name) => name === 'Part' || name === 'Object',
});

/** Parses a small request body (CompleteMultipartUpload, Delete); undefined when it is not XML. */
export function parseXml(body: string): Record<string, unknown> | undefined {
  try {
    const parsed = parser.parse(body, true);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
