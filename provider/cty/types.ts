// cty types as Terraform describes them on the wire: JSON like "string", ["list","number"],
// ["object",{"a":"bool"}], ["tuple",["string"]], "dynamic".

export type CtyType =
  | { kind: 'string' }
  | { kind: 'number' }
  | { kind: 'bool' }
  | { kind: 'dynamic' }
  | { kind: 'list'; element: CtyType }
  | { kind: 'set'; element: CtyType }
  | { kind: 'map'; element: CtyType }
  | { kind: 'object'; attributes: Record<string, CtyType>; optional?: string[] }
  | { kind: 'tuple'; elements: CtyType[] };

export const t = {
  string: { kind: 'string' } as CtyType,
  number: { kind: 'number' } as CtyType,
  bool: { kind: 'bool' } as CtyType,
  dynamic: { kind: 'dynamic' } as CtyType,
  list: (element: CtyType): CtyType => ({ kind: 'list', element }),
  set: (element: CtyType): CtyType => ({ kind: 'set', element }),
  map: (element: CtyType): CtyType => ({ kind: 'map', element }),
  object: (attributes: Record<string, CtyType>, optional?: string[]): CtyType =>
    optional && optional.length > 0 ? { kind: 'object', attributes, optional } : { kind: 'object', attributes },
  tuple: (elements: CtyType[]): CtyType => ({ kind: 'tuple', elements }),
};

export type TypeJson = string | [string, unknown] | [string, unknown, unknown];

export function typeToJson(type: CtyType): TypeJson {
  switch (type.kind) {
    case 'string':
    case 'number':
    case 'bool':
    case 'dynamic':
      return type.kind;
    case 'list':
    case 'set':
    case 'map':
      return [type.kind, typeToJson(type.element)];
    case 'tuple':
      return ['tuple', type.elements.map(typeToJson)];
    case 'object': {
      const attrs: Record<string, unknown> = {};
      for (const name of Object.keys(type.attributes).sort()) attrs[name] = typeToJson(type.attributes[name]);
      return type.optional && type.optional.length > 0
        ? ['object', attrs, [...type.optional].sort()]
        : ['object', attrs];
    }
  }
}

export function typeFromJson(json: unknown): CtyType {
  if (typeof json === 'string') {
    if (json === 'string' || json === 'number' || json === 'bool' || json === 'dynamic') return { kind: json };
    throw new Error(`unknown cty type ${JSON.stringify(json)}`);
  }
  if (Array.isArray(json) && json.length >= 2) {
    const [kind, arg] = json;
    switch (kind) {
      case 'list':
      case 'set':
      case 'map':
        return { kind, element: typeFromJson(arg) };
      case 'tuple':
        if (!Array.isArray(arg)) break;
        return { kind: 'tuple', elements: arg.map(typeFromJson) };
      case 'object': {
        if (arg === null || typeof arg !== 'object' || Array.isArray(arg)) break;
        const attributes: Record<string, CtyType> = {};
        for (const [name, at] of Object.entries(arg)) attributes[name] = typeFromJson(at);
        const optional = Array.isArray(json[2]) ? (json[2] as string[]) : undefined;
        return t.object(attributes, optional);
      }
    }
  }
  throw new Error(`unknown cty type ${JSON.stringify(json)}`);
}

export function typeEquals(a: CtyType, b: CtyType): boolean {
  return JSON.stringify(typeToJson(a)) === JSON.stringify(typeToJson(b));
}

export function typeToString(type: CtyType): string {
  return JSON.stringify(typeToJson(type));
}
